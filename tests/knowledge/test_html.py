import pytest

from knowledge.html import html_to_text, links_in, only_dead_links


def test_paragraphs_and_links_survive_as_text() -> None:
    markup = '<p>請至<a href="https://example.gov.tw/form">線上表單</a>申請。</p><p>電話 1999</p>'
    assert html_to_text(markup) == "請至線上表單 (https://example.gov.tw/form)申請。\n\n電話 1999"


def test_scripts_styles_and_entities() -> None:
    assert html_to_text("<style>p{}</style><script>alert(1)</script>甲&amp;乙") == "甲&乙"


@pytest.mark.parametrize(
    ("markup", "dead"),
    [
        ('<a href="">表單</a>', True),
        ("<a>表單</a>", True),
        ('<a href="https://x.tw">表單</a>', False),
        ('見<a href="">此</a>', False),
    ],
)
def test_dead_links(markup: str, dead: bool) -> None:
    assert only_dead_links(markup) is dead


def test_links_in_plain_text() -> None:
    assert links_in("見 https://a.tw/x 與 http://b.tw") == ["https://a.tw/x", "http://b.tw"]
