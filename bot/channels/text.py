"""What LINE and Telegram share when they turn replies into chat text."""

from __future__ import annotations

from bot.messages import MAX_TEXT_CHARS, Reply

__all__ = [
    "OTHER_CONTENT_TEXT",
    "TOO_LONG_TEXT",
    "WELCOME_TEXT",
    "absolute_url",
    "clip",
    "kept_of_long",
    "reply_text",
    "too_fast_text",
]

WELCOME_TEXT = (
    "您好，這裡是 1999 智慧客服。請直接輸入您的問題（例如：大型垃圾怎麼清運），"
    "也可以傳送位置或照片來反映路燈、坑洞等問題。緊急狀況請撥 119 或 110。"
)
OTHER_CONTENT_TEXT = "目前只看得懂文字、位置和照片。請用文字描述您的問題，或傳送位置、照片。"
TOO_LONG_TEXT = f"訊息太長了，請在 {MAX_TEXT_CHARS} 字以內，或分成幾則傳送。"
_TAIL_CHARS = 12


def kept_of_long(text: str) -> tuple[str, Reply | None]:
    """A message over ``MAX_TEXT_CHARS``: the part the bot reads, and a bubble saying what was kept.

    Chat apps let citizens send more than the bot reads; the first ``MAX_TEXT_CHARS`` characters
    are answered and the citizen is told where the bot stopped reading, so nothing is dropped
    without a word. A message within the limit comes back as it is, with no bubble.
    """
    if len(text) <= MAX_TEXT_CHARS:
        return text, None
    kept = text[:MAX_TEXT_CHARS]
    tail = kept[-_TAIL_CHARS:].replace("\n", " ").strip()
    notice = Reply(
        kind="notice",
        text=(
            f"您的訊息有 {len(text)} 字，超過 {MAX_TEXT_CHARS} 字的上限：我只讀了前 {MAX_TEXT_CHARS} 字"
            f"（到「…{tail}」為止），後面的 {len(text) - MAX_TEXT_CHARS} 字沒有讀到，請分成另一則再傳一次。"
        ),
    )
    return kept, notice


def too_fast_text(retry_after_seconds: int) -> str:
    """The answer to a message over ``limits.channel_per_sender``: it was not handled, send it again later."""
    return (
        f"您傳訊息的速度太快了，剛才這則沒有處理。請等 {retry_after_seconds} 秒後再傳一次。"
        "緊急狀況請直接撥 119 或 110。"
    )


def absolute_url(url: str, public_base_url: str) -> str | None:
    """A link a phone can open: absolute URLs as they are, the bot's own pages made absolute.

    None when it cannot be made absolute (no public address is configured).
    """
    if url.startswith(("https://", "http://", "tel:", "mailto:")):
        return url
    if url.startswith("/") and not url.startswith("//") and public_base_url:
        return public_base_url.rstrip("/") + url
    return None


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reply_text(reply: Reply, public_base_url: str, limit: int) -> str:
    """The bubble's text with its links written out (chat apps make URLs tappable)."""
    lines = [reply.text] if reply.text.strip() else []
    for link in reply.links:
        url = absolute_url(link.url, public_base_url)
        if url is not None:
            lines.append(f"{link.title}：{url}")
    return clip("\n".join(lines).strip(), limit)
