"""What a Chinese question asks for: a small generic lexicon of interrogatives and their cue words.

Each *question type* (how long, until when, how much it costs, where, …) has cue phrases
that mark a question asking for it, and optionally a pattern that marks an answer giving
it (a duration, an amount of money, an address, a phone number). The cues are general
Mandarin question vocabulary written from knowledge of the language, in the folded form
queries and FAQ text take before searching (Traditional characters, synonyms applied:
``怎麼`` is already ``如何``, ``多少錢`` already ``費用``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["QUESTION_TYPES", "QuestionType", "answer_types", "question_types"]


@dataclass(frozen=True)
class QuestionType:
    name: str
    cues: tuple[str, ...]  # phrases in a question that ask for this
    answer: re.Pattern[str] | None = None  # text in an answer that gives it


_NUM = r"[0-9０-９一二三四五六七八九十百千兩半]"

QUESTION_TYPES: tuple[QuestionType, ...] = (
    QuestionType(
        "duration",
        (
            "多久",
            "多長",
            "幾天",
            "幾個月",
            "幾年",
            "幾週",
            "多少時間",
            "多少天",
            "需時",
            "工作天",
            "天數",
            "時程",
        ),
        re.compile(_NUM + r"+ ?(個)?(工作天|天|日|週|星期|個月|月|年|小時)"),
    ),
    QuestionType(
        "validity",
        ("有效", "效期", "期限", "到期", "過期", "期滿", "展延", "截止", "逾期", "多久內", "之前要"),
        re.compile(r"(有效|期限|到期|屆滿|期滿|截止|以前|之前|內(辦理|申請|提出))"),
    ),
    QuestionType(
        "when",
        ("什麼時候", "何時", "幾點", "哪一天", "幾號", "日期", "時間", "時段", "開放", "上班時間", "營業"),
        re.compile(r"(" + _NUM + r"+ ?(點|時|月|日|號)|週[一二三四五六日]|星期|上午|下午|每年|每月)"),
    ),
    QuestionType(
        "cost",
        (
            "費用",
            "收費",
            "規費",
            "價格",
            "價錢",
            "票價",
            "多少元",
            "免費",
            "繳費",
            "付費",
            "錢",
            "費",
        ),
        re.compile(r"([0-9０-９,]+ ?元|新臺幣|新台幣|免費|免收|費用|收費)"),
    ),
    QuestionType(
        "amount",
        ("金額", "額度", "補助多少", "補貼多少", "給付多少", "領多少", "多少", "上限", "標準"),
        re.compile(r"([0-9０-９,]+ ?(元|萬|%)|百分之)"),
    ),
    QuestionType(
        "place",
        (
            "哪裡",
            "何處",
            "哪邊",
            "在哪",
            "地點",
            "地址",
            "位置",
            "據點",
            "場所",
            "窗口",
            "哪個單位",
            "哪一個單位",
        ),
        re.compile(r"(路|街|號|樓|區公所|地址|據點|服務處|中心)"),
    ),
    QuestionType(
        "how",
        ("如何", "流程", "程序", "步驟", "方式", "方法", "手續", "怎麼辦", "如何辦"),
    ),
    QuestionType(
        "documents",
        ("文件", "證件", "資料", "帶什麼", "攜帶", "準備", "應備", "檢附", "表格", "申請書", "書表", "證明"),
        re.compile(r"(身分證|印章|證明|影本|正本|申請書|照片|文件|證件|檢附|攜帶)"),
    ),
    QuestionType(
        "eligibility",
        (
            "資格",
            "條件",
            "誰可以",
            "哪些人",
            "什麼人",
            "對象",
            "符合",
            "可以申請嗎",
            "能不能",
            "可不可以",
            "限制",
            "是否可以",
        ),
        re.compile(r"(資格|條件|對象|符合|年滿|設籍)"),
    ),
    QuestionType(
        "penalty",
        ("罰", "處罰", "罰鍰", "違規", "違反", "開罰", "取締", "檢舉", "處分", "刑責"),
        re.compile(r"(罰|處分|刑|拘役|有期徒刑)"),
    ),
    QuestionType(
        "contact",
        ("電話", "聯絡", "專線", "洽詢", "打給", "找誰", "客服", "信箱", "諮詢"),
        re.compile(r"(0[0-9]{1,2}[-－ ]?[0-9]{6,8}|電話|專線|分機|1999)"),
    ),
    QuestionType("why", ("為什麼", "為何", "原因", "理由")),
    QuestionType(
        "online",
        ("網路", "線上", "網站", "網址", "下載", "上網", "app", "網頁"),
        re.compile(r"(https?://|www\.|網站|網址|線上|網路|下載)"),
    ),
    QuestionType("count", ("幾次", "幾個", "幾張", "幾位", "多少人", "人數", "次數")),
)


def question_types(text: str) -> frozenset[str]:
    """The types whose cue occurs in ``text`` (normalised question text)."""
    return frozenset(t.name for t in QUESTION_TYPES if any(cue in text for cue in t.cues))


def answer_types(text: str) -> frozenset[str]:
    """The types whose answer pattern occurs in ``text`` (an answer, or part of one)."""
    return frozenset(t.name for t in QUESTION_TYPES if t.answer is not None and t.answer.search(text))
