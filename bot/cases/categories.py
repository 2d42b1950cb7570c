"""Case categories: the responsible agency and the target time.

Dispatch categories (the city's 派工 cases) must be handled by the agency within 4 hours;
petition categories (陳情) are routed to an agency with a longer target. Agencies are named as
the city's agency list spells them (``bot.agencies``; a test holds every one to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = [
    "CATEGORIES",
    "Category",
    "category_by_code",
    "describe_prompt",
    "match_category",
    "DISPATCH_TARGET",
]

DISPATCH_TARGET = timedelta(hours=4)
PETITION_TARGET = timedelta(days=6)


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    agency: str
    target: timedelta
    dispatch: bool
    description: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "road_pothole", "道路坑洞", "高雄市政府工務局", DISPATCH_TARGET, True, "路面坑洞、孔蓋凹陷、路面破損"
    ),
    Category("fallen_tree", "路樹傾倒", "高雄市政府工務局", DISPATCH_TARGET, True, "路樹倒塌、斷枝擋路"),
    Category(
        "street_light", "路燈故障", "高雄市政府工務局", DISPATCH_TARGET, True, "路燈不亮、閃爍、白天不熄"
    ),
    Category(
        "road_flooding", "道路積水", "高雄市政府水利局", DISPATCH_TARGET, True, "道路積水、水溝阻塞溢流"
    ),
    Category("traffic_signal", "號誌故障", "高雄市政府交通局", DISPATCH_TARGET, True, "紅綠燈不亮、號誌故障"),
    Category(
        "traffic_incident",
        "重大交通事故",
        "高雄市政府警察局",
        DISPATCH_TARGET,
        True,
        "重大車禍造成道路阻塞",
    ),
    Category("noise", "噪音陳情", "高雄市政府環境保護局", PETITION_TARGET, False, "工地、營業場所、住家噪音"),
    Category(
        "sanitation", "環境清潔", "高雄市政府環境保護局", PETITION_TARGET, False, "垃圾堆置、髒亂、病媒"
    ),
    Category(
        "illegal_parking", "違規停車", "高雄市政府警察局", PETITION_TARGET, False, "占用車道、騎樓、紅線停車"
    ),
    Category(
        "general",
        "其他陳情",
        "高雄市政府研究發展考核委員會",
        PETITION_TARGET,
        False,
        "不屬其他類別的市政意見",
    ),
)

_BY_CODE = {category.code: category for category in CATEGORIES}


def category_by_code(code: str) -> Category:
    try:
        return _BY_CODE[code]
    except KeyError:
        known = ", ".join(_BY_CODE)
        raise KeyError(f"unknown case category {code!r}; known: {known}") from None


# Words citizens use for each category (general usage, matched after the exact names).
_WORDS: dict[str, tuple[str, ...]] = {
    "road_pothole": ("坑洞", "坑", "窟窿", "凹陷", "路面破", "柏油", "孔蓋"),
    "fallen_tree": ("路樹", "樹倒", "倒樹", "樹枝", "斷枝"),
    "street_light": ("路燈", "燈不亮", "路灯"),
    "road_flooding": ("積水", "淹水", "水溝", "排水", "淹"),
    "traffic_signal": ("紅綠燈", "號誌", "红绿灯", "信號燈"),
    "traffic_incident": ("車禍", "事故", "撞車", "追撞"),
    "noise": ("噪音", "吵", "施工聲"),
    "sanitation": ("垃圾", "髒亂", "臭", "老鼠", "蚊子"),
    "illegal_parking": ("違停", "違規停車", "亂停", "擋路"),
}


def match_category(text: str) -> str | None:
    """The category code a citizen's words name: its code, its name, or a word for it."""
    text = text.strip()
    if text in _BY_CODE:
        return text
    for category in CATEGORIES:
        if category.name in text:
            return category.code
    for code, words in _WORDS.items():
        if any(word in text for word in words):
            return code
    return None


# What helps the agency most, per category: the example in 「請簡單描述狀況（例如：…）」.
_DESCRIBE: dict[str, str] = {
    "road_pothole": "坑洞大約多大、多深、在哪個車道、從什麼時候開始",
    "fallen_tree": "樹有多大、擋住幾個車道或人行道、有沒有壓到車或電線",
    "street_light": "幾盞不亮、是整晚不亮還是一直閃、燈桿上的編號",
    "road_flooding": "積水大約多深、範圍多大、車子還能不能通過",
    "traffic_signal": "哪個方向的燈號不亮或一直閃、從什麼時候開始",
    "traffic_incident": "擋住幾個車道、有沒有油或碎片在路上（有人受傷請先撥 119）",
    "noise": "什麼樣的聲音、從哪裡傳來、通常在哪些時段",
    "sanitation": "是什麼垃圾或髒亂、範圍多大、持續多久了",
    "illegal_parking": "什麼車、停在哪個位置（紅線、騎樓、車道）、停了多久",
    "general": "發生了什麼事、從什麼時候開始、希望怎麼處理",
}


def describe_prompt(category: str) -> str:
    """The case form's request for a description, with an example fitting ``category``
    (a code or a name; anything else gets the general example)."""
    code = match_category(category) or "general"
    return f"請簡單描述狀況（例如：{_DESCRIBE[code]}）。"
