"""The throwaway PostgreSQL servers of bench/pgcluster.py, skipping the test where the machine
cannot run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.pgcluster import Servers as _Servers
from bench.pgcluster import Unavailable, free_port

__all__ = ["Servers", "free_port"]


class Servers(_Servers):
    def __init__(self, root: Path):
        try:
            super().__init__(root)
        except Unavailable as exc:
            pytest.skip(str(exc))
