"""pytest plugin loaded before Django: test runs default to development keys (DEBUG)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("AXES_ENABLED", "0")
# Tasks run in-process in tests unless a test starts a real worker itself.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
