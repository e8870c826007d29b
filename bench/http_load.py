"""HTTP throughput of the member list API: gunicorn on loopback, driven by a bounded load generator.

The server is started here (and only this process stops it, by the pid it started) with
the bench database's production-like environment: DEBUG off, the generator's keys, token
authentication. The load generator is a fixed number of threads with keep-alive
connections (http.client), each paging through the list by its `next` links, for a fixed
duration: requests/s, latency percentiles, errors, and the web workers' peak RSS (VmHWM).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn unionportal.wsgi` on 127.0.0.1 with `workers` processes × `threads` threads."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, threads: int = 2, log_path: Path):
        self.env = {**os.environ, **env}
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "unionportal.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            try:
                status, _body = request(self.port, "GET", "/api/v1/members/")
                if status in (200, 401, 403):
                    if len(self.worker_pids()) >= self.workers:
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer on port {self.port}; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the master we started; it stops its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def request(port: int, method: str, path: str, *, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def obtain_token(port: int, username: str, password: str) -> str:
    status, body = request(port, "POST", "/api/v1/auth/token/", body={"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"token request failed: {status} {body[:300]!r}")
    return json.loads(body)["token"]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (from /proc), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def drive(
    port: int, token: str, *, concurrency: int, duration: float, warmup: float = 2.0, extra_paths=(), pids=()
) -> dict:
    """`concurrency` threads page through /api/v1/members/ (first page, then up to 4 `next` links).

    Every fifth walk starts from one of `extra_paths` (a deep cursor). Only requests that
    finish inside the measured window after `warmup` count. With the web workers' `pids`,
    also their CPU time per request over the window (the load-independent figure: two
    cores serve at most 2,000 ms of CPU a second, shared with PostgreSQL and this client).
    """
    headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
    start = time.monotonic() + warmup
    stop = start + duration
    results: list[list[tuple[float, float, int]]] = [[] for _ in range(concurrency)]

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        out = results[slot]
        walks = 0
        while time.monotonic() < stop:
            path = extra_paths[walks % len(extra_paths)] if extra_paths and walks % 5 == 4 else "/api/v1/members/"
            walks += 1
            for _ in range(5):
                t0 = time.monotonic()
                try:
                    conn.request("GET", path, headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                    status = resp.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status, body = 599, b""
                t1 = time.monotonic()
                out.append((t0, t1, status))
                if status != 200 or t1 >= stop:
                    break
                # orjson: the client's parsing shares the two cores with the server it measures.
                nxt = orjson.loads(body).get("next")
                if not nxt:
                    break
                parts = urlsplit(nxt)
                path = parts.path + ("?" + parts.query if parts.query else "")
        conn.close()

    cpu: list[float] = []

    def sample_cpu() -> None:
        for moment in (start, stop):
            time.sleep(max(0.0, moment - time.monotonic()))
            cpu.append(cpu_seconds(list(pids)))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    if pids:
        threads.append(threading.Thread(target=sample_cpu, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    window = [(t1 - t0) * 1000 for rows in results for t0, t1, s in rows if t0 >= start and t1 <= stop and s == 200]
    errors = sum(1 for rows in results for t0, t1, s in rows if t0 >= start and t1 <= stop and s != 200)
    window.sort()

    def pct(p: float) -> float:
        return round(window[max(0, int(len(window) * p / 100 + 0.999999) - 1)], 2) if window else 0.0

    out = {
        "http_requests": len(window),
        "http_errors": errors,
        "http_rps": round(len(window) / duration, 1),
        "http_p50_ms": pct(50),
        "http_p95_ms": pct(95),
        "http_p99_ms": pct(99),
    }
    if len(cpu) == 2 and window:
        out["http_web_cpu_ms_per_request"] = round((cpu[1] - cpu[0]) * 1000 / len(window), 2)
    return out
