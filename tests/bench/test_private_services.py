"""Private servers for tests that stop or restart them: a port taken meanwhile is told apart."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

from bench.private_services import PG_BIN, PortTaken, PrivatePostgres, port_answers

needs_postgres = pytest.mark.skipif(
    not (PG_BIN / "initdb").exists() or (os.geteuid() == 0 and shutil.which("runuser") is None),
    reason=f"no PostgreSQL server programs at {PG_BIN}",
)


@needs_postgres
def test_a_port_taken_between_choosing_and_binding_is_told_apart() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = PrivatePostgres(taken)
        with pytest.raises(PortTaken):
            server.__enter__()
        assert not server.root.exists(), "a server that did not start leaves nothing behind"


@needs_postgres
def test_on_a_free_port_it_serves_and_is_removed_afterwards() -> None:
    with PrivatePostgres.on_free_port(5100, 5199) as server:
        assert 5100 <= server.port <= 5199
        assert port_answers(server.port)
        root = server.root
    assert not root.exists()
    assert not port_answers(server.port)
