"""The supervisors' figures (docs/metrics.md).

``outcomes`` says what each turn counts for (the architecture's definitions), ``refresh`` keeps
the derived tables up to date with the turn log, ``figures`` holds the value types,
``queries`` the figures for any period, channel, category and agency, and ``clusters`` the top
unanswered questions grouped by meaning.
"""
