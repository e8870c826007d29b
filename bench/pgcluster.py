"""Throwaway PostgreSQL servers on loopback (a primary and a streaming replica made with
pg_basebackup), from the Debian packages already on the machine: for the scale-out tests
(tests/scale) and the replica bench (bench/replica_bench.py). As root they run as the
`postgres` user (the server refuses root)."""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


class Unavailable(RuntimeError):
    """The machine cannot run throwaway servers (no server binaries, or root without runuser)."""


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Servers:
    def __init__(self, root: Path):
        bindir = _bindir()
        if bindir is None:
            raise Unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.bin = bindir
        self.root = root
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            raise Unavailable("running as root without runuser: cannot start PostgreSQL as postgres")
        self.user = "postgres" if self.as_root else getpass.getuser()
        self.started: list[Path] = []
        root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(root, "postgres", "postgres")

    def cmd(self, *args: str) -> list[str]:
        argv = [str(self.bin / args[0]), *args[1:]]
        return ["runuser", "-u", "postgres", "--", *argv] if self.as_root else argv

    def run(self, *args: str) -> None:
        result = subprocess.run(self.cmd(*args), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}\n{result.stderr}")

    def configure(self, data: Path, port: int, **extra: str) -> None:
        settings = {
            "port": str(port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            **extra,
        }
        with open(data / "postgresql.auto.conf", "a") as conf:
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")

    def start(self, data: Path, port: int) -> None:
        self.run("pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60", "start")
        self.started.append(data)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL on port {port} did not start")

    def stop_command(self, data: Path) -> list[str]:
        return self.cmd("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")

    def primary(self, **extra: str) -> tuple[Path, int]:
        data, port = self.root / "primary", free_port()
        self.run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.configure(data, port, wal_level="replica", max_wal_senders="5", hot_standby="on", **extra)
        self.start(data, port)
        return data, port

    def replica_of(self, primary_port: int, **extra: str) -> tuple[Path, int]:
        data, port = self.root / "replica", free_port()
        self.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary_port),
            "-U",
            "postgres",
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
        )
        self.configure(data, port, hot_standby="on", **extra)
        self.start(data, port)
        return data, port

    def stop_all(self) -> None:
        for data in reversed(self.started):
            subprocess.run(self.stop_command(data), capture_output=True, timeout=60)
        self.started.clear()
