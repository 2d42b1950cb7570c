"""the city's agencies under one name each: rows stored under another name of an agency renamed

FAQs (the live row; the source layer keeps the name the source gave), cases, logged turns and the
supervisors' figures (``metric_turn``, and ``metric_day`` summed again for the days touched) are
renamed to the canonical name of bot/agencies/agencies.yml as it was when this migration was
written (a copy below: a migration does not follow later changes of the list). Names the list
did not know are left as they are; `bot1999 agencies report` lists them, and any row still under
another name of a known agency.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PREFIXES = ("高雄市政府", "高雄市府", "高市府", "高雄市", "高市", "市政府", "市府", "高雄縣政府", "高雄縣")
NAMES: dict[str, tuple[str, ...]] = {
    "高雄市政府秘書處": ("秘書處",),
    "高雄市政府民政局": ("民政局",),
    "高雄市政府財政局": ("財政局",),
    "高雄市稅捐稽徵處": ("稅捐處", "稅捐稽徵處", "稅務局"),
    "高雄市政府教育局": ("教育局",),
    "高雄市政府經濟發展局": ("經發局", "經濟發展局", "建設局"),
    "高雄市政府海洋局": ("海洋局",),
    "高雄市政府農業局": ("農業局",),
    "高雄市動物保護處": ("動保處", "動物保護處", "農業局動物保護處"),
    "高雄市政府觀光局": ("觀光局",),
    "高雄市政府都市發展局": ("都發局", "都市發展局"),
    "高雄市政府工務局": (
        "工務局",
        "工務局養護工程處",
        "養護工程處",
        "養工處",
        "工務局新建工程處",
        "新建工程處",
        "工務局道路挖掘管理中心",
        "工務局公園處",
    ),
    "高雄市政府水利局": ("水利局",),
    "高雄市政府社會局": ("社會局",),
    "高雄市政府勞工局": ("勞工局",),
    "高雄市政府警察局": ("警察局", "警局", "警察局交通警察大隊", "交通警察大隊", "交通大隊"),
    "高雄市政府消防局": ("消防局",),
    "高雄市政府衛生局": ("衛生局",),
    "高雄市政府環境保護局": ("環保局", "環境保護局", "清潔隊"),
    "高雄市政府捷運工程局": ("捷運局", "捷運工程局"),
    "高雄市政府交通局": ("交通局",),
    "高雄市政府文化局": ("文化局",),
    "高雄市政府地政局": ("地政局",),
    "高雄市政府法制局": ("法制局",),
    "高雄市政府新聞局": ("新聞局",),
    "高雄市政府人事處": ("人事處",),
    "高雄市政府主計處": ("主計處",),
    "高雄市政府政風處": ("政風處",),
    "高雄市政府研究發展考核委員會": ("研考會", "研究發展考核委員會", "1999話務中心", "1999 話務中心"),
    "高雄市政府原住民事務委員會": ("原民會", "原住民事務委員會"),
    "高雄市政府客家事務委員會": ("客委會", "客家事務委員會"),
    "高雄市政府運動發展局": ("運發局", "運動發展局", "體育處"),
    "高雄市政府青年局": ("青年局",),
    "高雄市政府毒品防制局": ("毒防局", "毒品防制局"),
}
TABLES = ("faq", "case_file", "turn", "metric_turn")
DAY_SUMS = (
    "COUNT(*)",
    "SUM(question)",
    "SUM(answered)",
    "SUM(successful)",
    "SUM(CASE WHEN question = 1 AND decision = 'clarify' THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN question = 1 AND decision = 'abstain' THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN question = 1 AND feedback = 'good' THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN question = 1 AND feedback = 'bad' THEN 1 ELSE 0 END)",
    "COUNT(latency_ms)",
)
DAY_COLUMNS = "day, channel, category, agency, turns, questions, answered, successful, clarified, abstained, feedback_good, feedback_bad, timed"


def _key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _canonical_names() -> dict[str, str]:
    by_key = {}
    for canonical, names in NAMES.items():
        for name in (canonical, *names):
            by_key[_key(name)] = canonical
    return by_key


def canonical(name: str, by_key: dict[str, str]) -> str | None:
    """The canonical name of ``name`` by the list of this migration, or None when it does not know it."""
    key = _key(name)
    if key in by_key:
        return by_key[key]
    for prefix in sorted({_key(p) for p in PREFIXES}, key=len, reverse=True):
        if key.startswith(prefix) and key[len(prefix) :] in by_key:
            return by_key[key[len(prefix) :]]
    return None


def upgrade() -> None:
    bind = op.get_bind()
    by_key = _canonical_names()
    for table in TABLES:
        names = [str(n) for n in bind.execute(sa.text(f"SELECT DISTINCT agency FROM {table}")).scalars() if n]  # noqa: S608 - fixed names
        for name in names:
            wanted = canonical(name, by_key)
            if wanted is not None and wanted != name:
                bind.execute(
                    sa.text(f"UPDATE {table} SET agency = :wanted WHERE agency = :name"),  # noqa: S608 - fixed names
                    {"wanted": wanted, "name": name},
                )
    days = [
        str(day)
        for day, name in bind.execute(sa.text("SELECT DISTINCT day, agency FROM metric_day"))
        if name and canonical(str(name), by_key) not in (None, name)
    ]
    for day in sorted(set(days)):  # one agency a day: the day's rows summed again from metric_turn
        bind.execute(sa.text("DELETE FROM metric_day WHERE day = :day"), {"day": day})
        bind.execute(
            sa.text(
                f"INSERT INTO metric_day ({DAY_COLUMNS}) SELECT day, channel, category, agency, {', '.join(DAY_SUMS)}"  # noqa: S608 - fixed names
                " FROM metric_turn WHERE day = :day GROUP BY day, channel, category, agency"
            ),
            {"day": day},
        )


def downgrade() -> None:
    """Nothing to undo: the canonical names are names of the same agencies (the FAQ source layer
    still has what each source said)."""
