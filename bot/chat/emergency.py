"""Emergencies are never FAQ questions: the first reply sends the citizen to 119 or 110.

Rasa's ``emergency`` intent does this in a normal conversation; this keyword check is what
the service itself uses in degraded mode, before anything else, so no emergency ever
gets an FAQ answer while Rasa is away.
"""

from __future__ import annotations

import re

from bot.messages import Reply

__all__ = ["EMERGENCY_REPLY", "looks_like_emergency"]

EMERGENCY_REPLY = Reply(
    kind="emergency",
    text=(
        "這聽起來是緊急狀況，請立刻撥打電話：火災、受傷或需要救護車請撥 119；"
        "有人身安全危險、犯罪或重大車禍請撥 110。1999 與本聊天服務無法派遣救護或警力。"
    ),
)

_PATTERNS = re.compile(
    "|".join(
        [
            r"失火|火災(?!保險|險|理賠|預防|宣導|演練|警報)|起火|著火|冒煙.*(屋|房|樓)|火燒",
            r"救護車(?!.*(收費|費用|多少錢|要錢))|叫救護|昏倒|昏迷|沒有?呼吸|沒心跳|心跳停|中風|抽搐|大量出血|流很多血|割腕|自殺|輕生|想死",
            r"有人受傷|受重傷|被撞.*(流血|倒地|不動)|車禍.*(受傷|流血|倒地)",
            r"搶劫|搶匪|有人.*(持刀|拿刀|拿槍)|闖入|被跟蹤|家暴.*(現在|正在)|正在打人|綁架|性侵",
            r"瓦斯外洩|瓦斯味很重|一氧化碳|氣爆|爆炸|溺水|落水|觸電|被困",
        ]
    )
)


def looks_like_emergency(text: str) -> bool:
    return bool(_PATTERNS.search(text))
