"""The case form's fields as citizens see them: labels, the summary to confirm, corrections."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.messages import Button, Reply

__all__ = ["FIELD_LABELS", "NONE", "confirm_reply", "corrected_field"]

NONE = "none"  # the value of an answer the citizen chose not to give (photo, phone)
FIELD_LABELS = {
    "category": "問題類別",
    "location": "地點",
    "description": "狀況描述",
    "photo": "照片",
    "phone": "聯絡電話",
}
_FIELD_WORDS = {
    "location": ("地點", "地址", "位置", "路名", "路口", "門牌", "location"),
    "phone": ("電話", "手機", "號碼", "phone"),
    "description": ("描述", "狀況", "說明", "內容", "description"),
    "category": ("類別", "分類", "種類", "類型", "category"),
    "photo": ("照片", "相片", "圖片", "photo"),
}


def _field_named(text: str) -> str | None:
    for field, words in _FIELD_WORDS.items():
        if any(word in text for word in words):
            return field
    return None


def corrected_field(tracker: Tracker) -> str | None:
    """Which answer to correct: the one named (entity, then words), else the last one given."""
    for value in tracker.get_latest_entity_values("form_field"):
        field = _field_named(str(value))
        if field is not None:
            return field
    field = _field_named(str(tracker.latest_message.get("text") or ""))
    if field is not None:
        return field
    requested = tracker.get_slot("requested_slot")
    order = list(FIELD_LABELS)
    if requested == "consent":
        return "phone"
    if requested in order:
        given = [f for f in order[: order.index(requested)] if tracker.get_slot(f) is not None]
        return given[-1] if given else None
    return None  # at the summary: its buttons name the field


def _masked(phone: str) -> str:
    return phone[:4] + "*" * max(0, len(phone) - 7) + phone[-3:] if len(phone) > 7 else phone


def confirm_reply(tracker: Tracker) -> Reply:
    """The summary of the case before it is filed, with confirm, correct and cancel buttons."""
    location = str(tracker.get_slot("location") or "")
    if location.replace(",", "").replace(".", "").replace("-", "").isdigit():
        location = f"您分享的位置（{location}）"
    phone = str(tracker.get_slot("phone") or NONE)
    if phone == NONE:
        contact = "未留電話（查詢進度請撥 1999）"
    else:
        contact = f"{_masked(phone)}（{'同意' if tracker.get_slot('consent') else '不同意'}提供承辦單位聯絡）"
    if tracker.get_slot("message_for_person"):
        return _message_reply(str(tracker.get_slot("description") or ""), contact)
    photo = str(tracker.get_slot("photo") or NONE)
    lines = [
        "請確認要送出的案件資料：",
        f"・問題類別：{tracker.get_slot('category') or ''}",
        f"・地點：{location}",
        f"・狀況描述：{tracker.get_slot('description') or ''}",
        f"・照片：{'無' if photo == NONE else '已附上'}",
        f"・聯絡電話：{contact}",
        "資料正確請按「確認送出」，要修改請點選該項目。",
    ]
    buttons = [Button(title="確認送出", payload="/affirm")]
    buttons += [
        Button(title=f"修改{FIELD_LABELS[field]}", payload=f'/correct{{"form_field": "{field}"}}')
        for field in ("category", "location", "description", "phone")
    ]
    buttons.append(Button(title="取消不送出", payload="/cancel"))
    return Reply(text="\n".join(lines), buttons=buttons)


def _message_reply(message: str, contact: str) -> Reply:
    """The summary of a message for a person (no category, place or photo to show)."""
    lines = [
        "請確認要送出的留言：",
        f"・留言：{message}",
        f"・聯絡電話：{contact}",
        "資料正確請按「確認送出」，要修改請點選該項目。",
    ]
    buttons = [
        Button(title="確認送出", payload="/affirm"),
        Button(title="修改留言", payload='/correct{"form_field": "description"}'),
        Button(title=f"修改{FIELD_LABELS['phone']}", payload='/correct{"form_field": "phone"}'),
        Button(title="取消不送出", payload="/cancel"),
    ]
    return Reply(text="\n".join(lines), buttons=buttons)
