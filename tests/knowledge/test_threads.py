"""One thread per query: the thread pools as a fresh process sees them after the limit."""

import json
import os
import subprocess
import sys

import pytest

from knowledge.threads import wanted_threads

PROBE = """
import json, faiss, numpy, torch, threadpoolctl
from knowledge.threads import limit_threads
n = limit_threads()
pools = sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()})
print(json.dumps({"n": n, "torch": torch.get_num_threads(), "interop": torch.get_num_interop_threads(),
                  "faiss": faiss.omp_get_max_threads(), "pools": pools}))
"""


def _probe(omp: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_without_any_setting_every_pool_runs_one_thread() -> None:
    assert _probe(None) == {"n": 1, "torch": 1, "interop": 1, "faiss": 1, "pools": [1]}


def test_a_thread_count_set_in_the_environment_wins() -> None:
    seen = _probe("2")
    assert (seen["n"], seen["torch"], seen["faiss"], seen["pools"]) == (2, 2, 2, [2])


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("3", 3), ("0", 1), ("many", 1)])
def test_wanted_threads(monkeypatch: pytest.MonkeyPatch, value: str | None, expected: int) -> None:
    if value is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", value)
    assert wanted_threads() == expected
