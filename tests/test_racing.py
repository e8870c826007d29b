"""The race helpers themselves: every call runs at the same time, and errors are kept or fail the test."""

import threading

import pytest

from tests.racing import at_once, at_once_each, race


def _all_inside(parties: int):
    """A call that returns only if `parties` calls are inside it at the same time."""
    inside = threading.Barrier(parties, timeout=5)
    return lambda: inside.wait()


def test_it_runs_every_call_at_the_same_time_in_its_own_thread():
    assert sorted(at_once(_all_inside(4))) == [0, 1, 2, 3]
    assert sorted(at_once(_all_inside(6), threads=6)) == list(range(6))


def test_it_runs_each_callable_once_and_returns_what_they_return():
    inside = _all_inside(3)
    results = at_once_each([lambda n=n: (inside(), n)[1] for n in ("a", "b", "c")])
    assert sorted(results) == ["a", "b", "c"]


def test_race_returns_the_refusals_and_the_strict_helpers_fail_on_them():
    def refuse():
        raise ValueError("已处理")

    results, errors = race([lambda: "won", refuse, refuse])
    assert results == ["won"]
    assert [str(e) for e in errors] == ["已处理", "已处理"]
    with pytest.raises(AssertionError, match="已处理"):
        at_once_each([lambda: "won", refuse])
    with pytest.raises(AssertionError, match="已处理"):
        at_once(refuse, threads=2)
