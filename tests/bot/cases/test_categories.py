from bot.cases import CATEGORIES
from bot.cases.categories import describe_prompt


def test_each_category_is_asked_for_its_own_kind_of_description() -> None:
    prompts = {category.code: describe_prompt(category.name) for category in CATEGORIES}
    assert len(set(prompts.values())) == len(CATEGORIES), "no two categories share an example"
    assert "坑洞" in prompts["road_pothole"]
    assert "坑洞" not in prompts["street_light"]
    assert "燈桿" in prompts["street_light"]
    assert "坑洞" not in describe_prompt("路樹傾倒")
    assert describe_prompt("") == prompts["general"]
    assert describe_prompt("street_light") == prompts["street_light"]
