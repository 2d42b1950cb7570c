"""Small hand-written FAQs and a counting wrapper of the hashing encoder for retrieval tests."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.encoder import HashingEncoder
from knowledge.encoder._protocol import Vectors
from knowledge.faq import FaqRecord
from knowledge.normalize import for_retrieval

__all__ = ["CountingEncoder", "faqs"]


class CountingEncoder:
    """The project's :class:`HashingEncoder`, counting how many texts each call encodes
    (``calls``) and on which side (``sides``)."""

    def __init__(self, dim: int = 256) -> None:
        self._inner = HashingEncoder(dim=dim, ngram_sizes=(2,))
        self.calls: list[int] = []
        self.sides: list[str] = []

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        self.sides.append("query")
        return self._inner.encode_queries([for_retrieval(t) for t in texts])

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        self.sides.append("passage")
        return self._inner.encode_passages([for_retrieval(t) for t in texts])


_ROWS = [
    ("T-1", "兵役體檢要帶什麼證件？", "役男參加兵役體檢請攜帶身分證及印章，至指定醫院報到。"),
    ("T-2", "職業災害補償如何申請？", "勞工因職業災害受傷，可向勞保局申請職業災害給付，並由雇主補償工資。"),
    ("T-3", "交通違規罰鍰如何繳納？", "交通違規罰鍰可至監理站、便利商店或線上繳納。逾期將加重處罰。"),
    ("T-4", "大型垃圾如何清運？", "大型家具等大型垃圾請先電話預約清潔隊，於約定時間放置指定地點。"),
    ("T-5", "低收入戶資格如何審查？", "低收入戶審查家庭總收入及財產，請向戶籍所在地區公所申請。"),
    ("T-6", "大型垃圾如何清運？", "請預約清潔隊到府收運大型垃圾。"),
    ("T-7", "圖書館借書期限多久？", "市立圖書館每次可借閱圖書十冊，借期二十八天，可續借一次。"),
]


def faqs() -> list[FaqRecord]:
    """Seven FAQs; T-4 and T-6 ask the same question."""
    return [FaqRecord(id=i, question=q, answer=a, agency="測試局") for i, q, a in _ROWS]
