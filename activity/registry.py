"""The registry of reminder kinds: each domain declares its own in its `reminders.py`.

activity sits below the domains, so it cannot import them; each domain registers its
kinds and its scan in its AppConfig.ready (dependency inversion, docs/architecture.md):

    register_reminders(
        "disputes",
        kinds=[ReminderKind("disputes.case_day10", _("调解第 10 天"), audience=STAFF), ...],
        scan=scan,   # scan(today) -> iterable of Due
    )

A scan reads only what is due on `today` (indexed queries, no walk of the city) and
resolves the recipients by role and scope (activity.recipients). The beat schedule in
unionportal/celery.py runs one sweep per source; activity.services.reminders writes the
ledger and the deliveries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .models import Channel

STAFF = "staff"
WORKER = "worker"

# Without a preference row: staff get the inbox and an email, workers the inbox and a text message.
DEFAULT_CHANNELS = {
    STAFF: (Channel.IN_APP, Channel.EMAIL),
    WORKER: (Channel.IN_APP, Channel.SMS),
}


@dataclass(frozen=True)
class ReminderKind:
    code: str  # "<source>.<what>", unique
    label: str  # shown on the preferences page
    audience: str = STAFF
    channels: tuple[str, ...] = ()  # the defaults, when not the audience's (e.g. the inbox only)

    @property
    def default_channels(self) -> tuple[str, ...]:
        return tuple(str(c) for c in (self.channels or DEFAULT_CHANNELS[self.audience]))


@dataclass(frozen=True)
class Due:
    """One thing due: the object, the kind, the due date and who must hear of it."""

    kind: str
    target_type: str  # model label, e.g. "disputes.case"
    target_id: str
    due_on: dt.date
    recipients: tuple[int, ...]  # user ids
    title: str
    body: str = ""
    url: str = ""
    org_path: str = ""


@dataclass
class Source:
    name: str
    kinds: dict[str, ReminderKind] = field(default_factory=dict)
    scan: Callable[[dt.date], Iterable[Due]] | None = None


_SOURCES: dict[str, Source] = {}
_KINDS: dict[str, ReminderKind] = {}


def register_reminders(
    source: str, *, kinds: Iterable[ReminderKind], scan: Callable[[dt.date], Iterable[Due]] | None = None
) -> None:
    """Declare the reminder kinds of `source` and (for scheduled reminders) the scan that finds what is due."""
    entry = _SOURCES.setdefault(source, Source(source))
    for kind in kinds:
        entry.kinds[kind.code] = kind
        _KINDS[kind.code] = kind
    if scan is not None:
        entry.scan = scan


def sources() -> dict[str, Source]:
    return dict(_SOURCES)


def source(name: str) -> Source:
    try:
        return _SOURCES[name]
    except KeyError:
        raise LookupError(f"no reminders registered for {name!r}; known: {sorted(_SOURCES)}") from None


def kind(code: str) -> ReminderKind:
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"reminder kind {code!r} is not registered") from None


def kinds() -> list[ReminderKind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


def target_label(obj) -> tuple[str, str]:
    """(target_type, target_id) of a model instance, as the ledger keys it."""
    return obj._meta.label_lower, str(obj.pk)
