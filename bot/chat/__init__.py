"""Chat: the one message type every channel converts to, and the service that answers it."""
