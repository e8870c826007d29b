"""The scope harnesses' world, populated for each test that asks for `sides` (tests/security/world.py).

Modules whose tests only read, or write inside their own savepoint, share one world per
module instead (they import the fixtures of world.py).
"""

import pytest

from .world import build_sides


@pytest.fixture
def sides(tree, owner):
    """{"pd": [objects…], "hp": [objects…]} with markers in every text field that shows."""
    return build_sides(tree, owner)
