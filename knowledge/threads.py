"""One thread per query: the numeric libraries' thread pools limited to ``n`` threads in this process.

A query costs a few milliseconds of matrix work (one encoding, one matrix-vector product per
index). Spread over the pools that torch, numpy's OpenBLAS and faiss's OpenMP each start with
one thread per core, it gains nothing and loses much when their spinning workers collide with
another process or with the process's other serving threads (docs/benchmarks.md, "One thread
per query"). The encoder calls :func:`limit_threads` when it loads its model, so every process
that answers queries (the bot, the action server, ``bot1999 evaluate``) runs a query on one
thread without anyone setting ``OMP_NUM_THREADS``; a value set in the environment wins.
"""

from __future__ import annotations

import logging
import os

__all__ = ["limit_threads", "wanted_threads"]

log = logging.getLogger(__name__)
_applied: int | None = None


def wanted_threads(default: int = 1) -> int:
    """``OMP_NUM_THREADS`` when it is set to a positive number, else ``default``."""
    try:
        value = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return default
    return value if value > 0 else default


def limit_threads(n: int | None = None) -> int:
    """Limit torch's intra- and inter-op pools, faiss's OpenMP and every loaded BLAS/OpenMP
    library (threadpoolctl) to ``n`` threads (default :func:`wanted_threads`); returns ``n``.

    Libraries loaded later keep their own defaults, so call it after importing torch and faiss
    (the encoder does, when it loads its model). Idempotent.
    """
    global _applied
    n = wanted_threads() if n is None else max(1, n)
    import faiss
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    if _applied is None:
        try:
            torch.set_num_interop_threads(n)  # only allowed before the first inter-op work
        except RuntimeError:
            log.debug("torch's inter-op pool was already started; left as it is")
    faiss.omp_set_num_threads(n)
    threadpool_limits(limits=n)  # numpy's OpenBLAS and the OpenMP runtimes, as loaded now
    if _applied != n:
        log.info("numeric libraries limited to %d thread(s) per process", n)
    _applied = n
    return n
