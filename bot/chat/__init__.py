"""Chat: the service that answers every channel's messages (the message type itself is ``bot.messages``)."""
