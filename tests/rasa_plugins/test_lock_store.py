"""rasa_plugins/lock_store.py in the Rasa environment, against the real Redis: two stores (two
replicas) never hold one conversation at once, a dead holder's lock expires, and a holder whose
lock expired does not free its successor's."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
import redis

from tests.conftest import REPO, _unavailable
from tests.redis_space import REDIS_URL

pytestmark = pytest.mark.integration

RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"

# Runs in .venv-rasa; prints one JSON line of observations.
CHECK = """
import asyncio, json, sys, time
from rasa.core.lock_store import LockError
from rasa.utils.endpoints import EndpointConfig
from rasa_plugins.lock_store import RedisMutexLockStore

prefix = sys.argv[1]
def store():
    return RedisMutexLockStore(EndpointConfig(url="127.0.0.1", port=6379, db=0, key_prefix=prefix))
a, b = store(), store()
seen = {"inside": 0, "most_inside": 0, "entries": 0}

async def turn(locks, conversation):
    async with locks.lock(conversation):
        seen["inside"] += 1
        seen["most_inside"] = max(seen["most_inside"], seen["inside"])
        await asyncio.sleep(0.002)  # other tasks run meanwhile
        seen["inside"] -= 1
        seen["entries"] += 1

async def main():
    out = {}
    await asyncio.gather(*(turn(a if i % 2 else b, "same") for i in range(40)))
    out["exclusive"] = dict(seen)
    out["freed"] = a.red.exists(a.key("same"))
    # other conversations do not wait for each other
    async with a.lock("one"):
        async with b.lock("two"):
            out["independent"] = True
    # a holder that died: its key expires after the lifetime, then the next one gets in (measured
    # from before the key was set, so a slow machine only makes the wait look longer)
    started = time.monotonic()
    a.red.set(a.key("dead"), "someone-gone", px=300)
    async with b.lock("dead"):
        out["waited_for_expiry"] = time.monotonic() - started >= 0.25
        out["dead_key_now"] = (b.red.get(b.key("dead")) or b"").decode() != "someone-gone"
    # a holder whose lock expired meanwhile must not free the lock its successor holds: each
    # waits for the other's step (events, not sleeps), so the order holds on any machine
    order = []
    b_in, a_out = asyncio.Event(), asyncio.Event()
    async def slow():
        async with a.lock("slow", lock_lifetime=0.2):
            order.append("a in")
            await asyncio.wait_for(b_in.wait(), 120)  # b gets in only once a's key expired
        order.append("a out")
        out["successor_still_holds"] = bool(b.red.get(b.key("slow")))
        a_out.set()
    async def successor():
        while not order:
            await asyncio.sleep(0.005)
        async with b.lock("slow", lock_lifetime=120):
            order.append("b in")
            b_in.set()
            await asyncio.wait_for(a_out.wait(), 120)
    await asyncio.gather(slow(), successor())
    out["order"] = order
    # waiting longer than the lifetime gives Rasa's LockError (the foreign key outlives any wait)
    a.red.set(a.key("stuck"), "someone", px=600_000)
    try:
        async with b.lock("stuck", lock_lifetime=0.2):
            out["stuck"] = "entered"
    except LockError:
        out["stuck"] = "LockError"
    print(json.dumps(out))

asyncio.run(main())
"""


def test_mutual_exclusion_expiry_and_own_release() -> None:
    if not RASA_PYTHON.is_file():
        _unavailable(f"no Rasa environment at {RASA_PYTHON.parent.parent}")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable(f"Redis does not answer at {REDIS_URL}: {error}")
    prefix = "locktest" + uuid.uuid4().hex[:10]  # Rasa wants an alphanumeric prefix
    try:
        done = subprocess.run(
            [str(RASA_PYTHON), "-c", CHECK, prefix],
            cwd=REPO,
            env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        leftover = [key.decode() for key in client.scan_iter(prefix + "*")]
    finally:
        for key in client.scan_iter(prefix + "*"):
            client.delete(key)
    assert seen["exclusive"] == {"inside": 0, "most_inside": 1, "entries": 40}
    assert seen["freed"] == 0
    assert seen["independent"] is True
    assert seen["waited_for_expiry"] is True
    assert seen["dead_key_now"] is True  # the key now holds b's token
    assert seen["order"] == ["a in", "b in", "a out"]
    assert seen["successor_still_holds"] is True
    assert seen["stuck"] == "LockError"
    assert leftover == [f"{prefix}:lock:mutex:stuck"]  # only the foreign key the test set itself
