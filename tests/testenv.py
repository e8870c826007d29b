"""pytest plugin loaded before Django: test runs default to development keys (DEBUG)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("AXES_ENABLED", "0")
