"""The mediation fixtures (bodies, mediators) for the reminder tests, which need due cases."""

from tests.disputes.conftest import bodies, mediators  # noqa: F401
