import pytest

from bot.cases.places import find_place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("三民區九如一路有個大坑洞", "三民區九如一路"),
        ("中正路上有一個很大的坑洞", "中正路"),
        ("剛剛騎過一個坑洞輪胎都爆了，在建國路", "建國路"),
        ("自由路跟民族路口的紅綠燈壞了", "自由路跟民族路口"),
        ("三民區建國二路100號前的路燈不亮", "三民區建國二路100號前"),
        ("苓雅區四維三路與中華四路口號誌故障", "苓雅區四維三路與中華四路口"),
        ("新光路38巷5號前面淹水", "新光路38巷5號前"),
        ("凹子底公園的燈壞了", "凹子底公園"),
        ("高雄市三民區九如一路", "高雄市三民區九如一路"),
        ("ＸＸ　三民區九如一路１００號", "三民區九如一路100號"),  # full-width digits and spaces
    ],
)
def test_a_place_named_in_a_report_is_found(text: str, place: str) -> None:
    assert find_place(text) == place


@pytest.mark.parametrize(
    "text",
    [
        "我要報案",
        "颱風把路樹吹倒在馬路上",
        "路上有一個窟窿很危險",
        "我家前面的路燈壞了整晚都不亮",
        "我家巷口路燈壞了",
        "公園旁邊的大樹倒下來壓到機車",
        "高速公路下來的路口發生連環車禍",
        "前鎮區有坑洞",  # a district alone is no place to send someone to
        "路燈故障",
    ],
)
def test_common_words_are_not_taken_for_a_place(text: str) -> None:
    assert find_place(text) is None
