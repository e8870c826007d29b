"""pytest plugin loaded before Django: test runs default to development keys (DEBUG)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("AXES_ENABLED", "0")
# Tasks run in-process in tests unless a test starts a real worker itself.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

# Each xdist worker gets its own Redis database: a test that clears the cache (FLUSHDB)
# must not wipe the rate-limit counters of a test running in the other worker.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis = os.environ.get("REDIS_URL", "")
if _worker.startswith("gw") and _worker[2:].isdigit() and _redis:
    _base, _sep, _db = _redis.rpartition("/")
    if _sep and _db.isdigit():
        os.environ["REDIS_URL"] = f"{_base}/{(int(_db) - int(_worker[2:])) % 16}"
