"""A private PostgreSQL and a private Redis, for tests that stop and restart them.

``bench.faults`` and ``tests/bot/cluster/test_faults.py`` restart PostgreSQL and stop Redis
in the middle of a load; doing that to the machine's shared servers would disturb everything
else on it. These run from a temporary folder on ports of their own and leave nothing behind.

PostgreSQL refuses to run as root, so when we are root its commands run as the ``postgres``
user (``runuser``) and the data folder belongs to that user.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PG_BIN", "PortTaken", "PrivatePostgres", "PrivateRedis", "free_port", "port_answers"]

PG_BIN = Path(os.environ.get("BOT1999_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port(first: int, last: int) -> int:
    """A port in ``first``..``last`` that nothing listens on, tried in random order: two
    processes looking at once rarely pick the same one (starting a server on it can still
    lose a race; ``PrivatePostgres.on_free_port`` tries another)."""
    for port in random.sample(range(first, last + 1), last - first + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PortTaken(RuntimeError):
    """Another process took the port between choosing it and the server binding it."""


class PrivatePostgres:
    """A PostgreSQL cluster of its own (trust authentication, user ``postgres``) on ``port``."""

    @classmethod
    @contextlib.contextmanager
    def on_free_port(cls, first: int, last: int, *, attempts: int = 5) -> Iterator[PrivatePostgres]:
        """Created and started on a free port of ``first``..``last``, removed afterwards; when
        another process takes the port meanwhile, another one."""
        for _ in range(attempts):
            server = cls(free_port(first, last))
            try:
                server.__enter__()
            except PortTaken:
                continue
            try:
                yield server
            finally:
                server.remove()
            return
        raise RuntimeError(f"PostgreSQL found no free port in {first}-{last} in {attempts} tries")

    def __init__(self, port: int, *, bin_dir: Path = PG_BIN) -> None:
        self.port = port
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="bot1999-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, *args: str) -> None:
        argv = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"]
        subprocess.run(_as_postgres([*argv, *args]), check=True, capture_output=True, cwd=self.root)

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        initdb = [str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        initdb += ["-E", "UTF8", "--locale", "C", "--no-sync"]
        subprocess.run(_as_postgres(initdb), check=True, capture_output=True, cwd=self.root)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            self._pg_ctl("-o", options, "start")
        except subprocess.CalledProcessError as error:
            log = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
            if "Address already in use" in log:
                raise PortTaken(f"port {self.port} was taken meanwhile") from error
            raise RuntimeError(f"PostgreSQL did not start on port {self.port}:\n{log[-2000:]}") from error

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, then the server comes back."""
        self._pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("-m", "fast", "stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        try:
            self.create()
            self.start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.remove()


class PrivateRedis:
    """A ``redis-server`` of its own on ``port``, keeping nothing on disk; ``stop`` and ``start``
    again (everything it held is then gone, as after a real Redis restart without persistence)."""

    def __init__(self, port: int, *, binary: str = "redis-server") -> None:
        self.port = port
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while not port_answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
