"""Read replicas against a real PostgreSQL streaming replica started on loopback.

A child process runs with DATABASE_URL on a throwaway primary and DATABASE_REPLICA_URLS on
its standby (tests/scale/replica_probe.py); the router's choices and what each read saw
are asserted here: heavy reads on the replica, read-your-writes on the primary, a lagging
or stopped replica skipped without an error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.scale.pgcluster import Servers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def servers():
    # Not under pytest's tmp_path: that folder is private to root, and the servers run as postgres.
    root = Path(tempfile.mkdtemp(prefix="unionportal-pg-"))
    servers = Servers(root)
    yield servers
    servers.stop_all()
    shutil.rmtree(root, ignore_errors=True)


def test_heavy_reads_use_a_healthy_replica_and_fall_back(servers):
    _, primary_port = servers.primary()
    replica_data, replica_port = servers.replica_of(primary_port)
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{primary_port}/postgres",
        "DATABASE_REPLICA_URLS": f"postgres://postgres@127.0.0.1:{replica_port}/postgres",
        "REPLICA_MAX_LAG_SECONDS": "1",
        "REPLICA_HEALTH_SECONDS": "0",
        "DB_CONN_MAX_AGE": "0",
        "PROBE_LAG_WAIT": "1.5",
        "PROBE_STOP_REPLICA": json.dumps(servers.stop_command(replica_data)),
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "scale" / "replica_probe.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["heavy_alias"] == "replica1"
    assert seen["plain_alias"] == "default"
    assert seen["auth_alias"] == "default"
    # Replay paused: the heavy read came from the replica, which does not have the row yet.
    assert seen["heavy_sees_unreplayed_row"] == ["replica1", False]
    # A context that has just written reads its own write from the primary.
    assert seen["read_your_writes"] == ["default", True]
    # Lagging beyond the bound: skipped; the primary answers with the row.
    assert seen["lagging"] == ["default", True]
    assert "lagging" in seen["lagging_why"]
    assert seen["caught_up"] == ["replica1", True]
    # Stopped: skipped without an error.
    assert seen["replica_down"] == ["default", True]
    assert "unreachable" in seen["replica_down_why"]
