"""The SMS gateway interface: `send_sms(mobile, text)` and its pluggable backends.

Every text message the portal sends (notices to a member's known mobile, one-time codes)
goes through `send_sms`. The backend is chosen by the `SMS_BACKEND` setting (a dotted
path to a class with `send(mobile, text)`):

- `core.sms.LoggingBackend` (the default, and the demo's): writes the message to the
  `unionportal.sms` logger with the mobile masked, so a developer sees what would go out.
- `core.sms.TestBackend`: keeps the messages in `core.sms.outbox` for tests to read.

A real gateway (an operator's or a cloud SMS service) is one more class with the same
`send` method, configured by `SMS_BACKEND`; it must not raise for a delivery failure the
caller cannot act on (log it instead), so that a slow gateway never rolls back a write.
Callers send after their transaction commits (`transaction.on_commit`), so a message is
never sent for a change that was rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("unionportal.sms")


@dataclass(frozen=True)
class SmsMessage:
    """One message as handed to the gateway."""

    mobile: str
    text: str


# What TestBackend "sent": tests clear it (or read it) around the code under test.
outbox: list[SmsMessage] = []


def _masked(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else "****"


class LoggingBackend:
    """Writes each message to the log instead of sending it (demo and development)."""

    def send(self, mobile: str, text: str) -> None:
        logger.info("SMS to %s: %s", _masked(mobile), text)


class TestBackend:
    """Records each message in `core.sms.outbox` (tests)."""

    __test__ = False  # not a pytest test class

    def send(self, mobile: str, text: str) -> None:
        outbox.append(SmsMessage(mobile=mobile, text=text))


def get_backend():
    path = getattr(settings, "SMS_BACKEND", "") or "core.sms.LoggingBackend"
    return import_string(path)()


def send_sms(mobile: str, text: str) -> None:
    """Send `text` to `mobile` (11 digits, already normalised) through the configured backend."""
    if not mobile or not text:
        raise ValueError("send_sms needs a mobile number and a text")
    get_backend().send(mobile, text)


def send_sms_on_commit(mobile: str, text: str) -> None:
    """Send once the current transaction commits (never for a change that was rolled back).

    A gateway failure is logged, not raised: the change it reports has already happened.
    """
    from django.db import transaction

    def send() -> None:
        try:
            send_sms(mobile, text)
        except Exception:
            logger.exception("SMS to %s could not be sent", _masked(mobile))

    transaction.on_commit(send)
