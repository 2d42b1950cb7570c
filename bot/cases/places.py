"""The place in a citizen's report, when the first message names one.

「三民區九如一路有個大坑洞」 names its place; the case form then need not ask for it. What is
taken is deliberately narrow — a Kaohsiung district with a road, a road with its section,
lane, alley, number or crossing, or a named landmark — so that words like 馬路, 路燈 or
公園 alone are never mistaken for an address. The form shows what it took in its summary,
where the citizen can correct it.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["DISTRICTS", "find_place"]

DISTRICTS = [
    "楠梓",
    "左營",
    "鼓山",
    "三民",
    "鹽埕",
    "前金",
    "新興",
    "苓雅",
    "前鎮",
    "旗津",
    "小港",
    "鳳山",
    "大寮",
    "鳥松",
    "林園",
    "仁武",
    "大樹",
    "大社",
    "岡山",
    "路竹",
    "橋頭",
    "梓官",
    "彌陀",
    "永安",
    "燕巢",
    "田寮",
    "阿蓮",
    "茄萣",
    "湖內",
    "旗山",
    "美濃",
    "內門",
    "杉林",
    "甲仙",
    "六龜",
    "茂林",
    "桃源",
    "那瑪夏",
]
# characters that end a name: particles, pronouns, measure words, what reads as a common noun
_STOP = "的在有是我你他她這那邊裡和與跟到從個要說請了很都也就把被將條馬道公走一整大小上下前後旁近又還"
_NAME_CHAR = rf"[^\s\da-zA-Z{_STOP}，。、！？,.!?；;：:（）()「」]"
_NAME = rf"{_NAME_CHAR}{{2,4}}?"
_NUMBER = r"[\d一二三四五六七八九十]+"
_ROAD = rf"{_NAME}(?:[一二三四五六七八九十]路|路|街|大道)(?![燈面樹邊況線])"
_DETAIL = rf"(?:{_NUMBER}段)?(?:{_NUMBER}巷)?(?:{_NUMBER}弄)?(?:{_NUMBER}號(?:之{_NUMBER})?)?"
_CROSSING = rf"(?:(?:與|和|跟|、|/){_ROAD}(?:{_NUMBER}段)?)?(?:交叉口|路口|口)?"
_LANDMARK = (
    rf"{_NAME}(?:公園|國小|國中|高中|大學|醫院|市場|火車站|捷運站|車站|夜市|地下道|天橋|停車場|"
    r"圖書館|體育館|活動中心|區公所|派出所|文化中心|美術館|巨蛋)"
)
_DISTRICT = rf"(?:高雄市)?(?:{'|'.join(DISTRICTS)})區"
_PLACE = re.compile(rf"(?:{_DISTRICT})?(?:{_ROAD}{_DETAIL}{_CROSSING}(?:前|旁|對面)?|{_LANDMARK})")


def find_place(text: str) -> str | None:
    """The first address or landmark named in ``text``, as written; None if there is none."""
    normal = unicodedata.normalize("NFKC", text)
    match = _PLACE.search(normal)
    if match is None:
        return None
    place = match.group(0)
    return place if len(place) >= 3 else None
