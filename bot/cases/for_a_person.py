"""A message for a person: what a citizen leaves when nobody can take the conversation.

Out of the agents' hours (or with no agent on line) a request for a person files nothing by
itself: the citizen is offered 「留言請專人回覆」, which asks for the message, a phone and
consent to use it, shows a summary, and only then files a general case (from the conversation:
never public) that the request for a person is linked to.
"""

from __future__ import annotations

__all__ = ["LEAVE_MESSAGE", "LEAVE_MESSAGE_PAYLOAD", "MESSAGE_PLACE", "MESSAGE_PROMPT"]

LEAVE_MESSAGE = "留言請專人回覆"
LEAVE_MESSAGE_PAYLOAD = "/leave_message"
MESSAGE_PLACE = "未提供（留言請專人回覆）"  # the case's place: a message has none
MESSAGE_PROMPT = "請留下想請專人回覆的內容（例如：想詢問或反映的事情、方便聯絡的時段）。"
