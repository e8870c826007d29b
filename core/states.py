"""The one state-machine helper: a transition table per model and one call that moves an object.

A domain declares its table once, next to its services::

    TRANSFER_STATES = StateMachine(
        Transfer,
        {TS.REQUESTED: {TS.ACCEPTED, TS.REJECTED, TS.CANCELLED}, TS.ACCEPTED: set(), ...},
    )

and every service that changes the state calls::

    t = transition(t, to=TS.ACCEPTED, actor=user, action="member.transfer_accepted",
                   reason=note, fields={"decided_by": user}, organization=t.to_union)

`transition` re-reads the row with SELECT … FOR UPDATE inside the caller's transaction (so
two clerks deciding at once queue, and the second sees the first's result), checks the move
against the table and the guard, sets the state and the extra fields, saves with
`update_fields`, and writes one TransitionRecord (the object's timeline) and one audit
event. A refused move raises TransitionError naming both state labels (HTTP 409 in the API,
a message on the page) and changes nothing.

The table is plain data: tests walk every (from, to) pair of every registered machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.translation import gettext as _

from .audit import log_action
from .errors import TransitionError
from .models import TransitionRecord

_MACHINES: dict[type[models.Model], StateMachine] = {}


class StateMachine:
    """The allowed moves of one model's state field: {from_state: {to_states}}.

    Every state of the field's choices must appear as a key (terminal states map to an
    empty set), so a state added to the choices without a row here is caught at import.
    """

    def __init__(self, model: type[models.Model], table: Mapping[str, Iterable[str]], *, field: str = "status"):
        self.model = model
        self.field = field
        self.table: dict[str, frozenset[str]] = {str(k): frozenset(str(v) for v in vs) for k, vs in table.items()}
        choices = dict(model._meta.get_field(field).flatchoices)
        unknown = (set(self.table) | {s for vs in self.table.values() for s in vs}) - set(choices)
        missing = set(choices) - set(self.table)
        if unknown or missing:
            raise ValueError(f"{model.__name__}.{field} table: unknown states {unknown}, missing rows {missing}")
        self._labels = choices
        _MACHINES[model] = self

    @property
    def states(self) -> list[str]:
        return list(self.table)

    def label(self, state: str) -> str:
        return str(self._labels.get(state, state))

    def allows(self, current: str, new: str) -> bool:
        return new in self.table.get(current, ())

    def check(self, current: str, new: str) -> None:
        """Raise TransitionError unless the table allows current → new."""
        if not self.allows(current, new):
            raise TransitionError(
                _("当前状态为“%(cur)s”，不能变更为“%(new)s”。") % {"cur": self.label(current), "new": self.label(new)}
            )

    def pairs(self) -> list[tuple[str, str]]:
        """Every (from, to) pair of states, allowed or not (for table-driven tests)."""
        return [(a, b) for a in self.states for b in self.states]


def machine_for(model_or_obj) -> StateMachine:
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    model = getattr(model._meta, "concrete_model", model)
    try:
        return _MACHINES[model]
    except KeyError:
        raise LookupError(f"no state machine declared for {model.__name__}") from None


def machines() -> list[StateMachine]:
    """Every declared machine (the table-driven tests check each has a test)."""
    return list(_MACHINES.values())


def _record(obj, *, current: str, to: str, machine: StateMachine, actor, reason: str, org_path: str) -> None:
    is_user = actor is not None and getattr(actor, "pk", None) is not None
    TransitionRecord.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        from_state=current,
        to_state=to,
        from_label=(machine.label(current) if current else "")[:60],
        to_label=machine.label(to)[:60],
        actor=actor if is_user else None,
        actor_label=(str(actor.get_username()) if is_user else str(actor or "system"))[:150],
        reason=reason,
        org_path=org_path,
    )


def record_created(obj: models.Model, *, actor, reason: str = "", org_path: str | None = None) -> None:
    """The first row of a new object's timeline ("" → its initial state).

    The creating service writes its own audit event; this only starts the history, so the
    timeline reads "asked by X at T" before the moves that follow.
    """
    machine = machine_for(obj)
    if org_path is None:
        org_path = getattr(obj, "org_path", "") or ""
    _record(
        obj,
        current="",
        to=getattr(obj, machine.field),
        machine=machine,
        actor=actor,
        reason=(reason or "").strip()[:200],
        org_path=org_path,
    )


def transition(
    obj: models.Model,
    to: str,
    *,
    actor,
    action: str,
    reason: str = "",
    guard: Callable[[Any], None] | None = None,
    data: dict | None = None,
    fields: Mapping[str, Any] | None = None,
    organization=None,
    org_path: str | None = None,
    ip_address: str | None = None,
) -> models.Model:
    """Move `obj` to state `to`, or raise TransitionError and change nothing.

    `guard(locked_obj)` runs on the locked row after the table check; it raises (a domain
    error, ValidationError, PermissionDenied…) to refuse. `fields` are set on the object in
    the same save. `organization` goes to the audit event; `org_path` (default: the object's
    `org_path`, else the organisation's path) scopes the history row. Returns the locked,
    updated object: callers continue with it, not with the stale instance they passed.
    """
    machine = machine_for(obj)
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        current = getattr(locked, machine.field)
        machine.check(current, to)
        if guard is not None:
            guard(locked)
        setattr(locked, machine.field, to)
        update = [machine.field]
        for name, value in (fields or {}).items():
            setattr(locked, name, value)
            update.append(name)
        if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
            update.append("updated_at")
        locked.save(update_fields=sorted(set(update)))
        if org_path is None:
            org_path = getattr(locked, "org_path", None) or getattr(organization, "path", "") or ""
        reason = (reason or "").strip()[:200]
        _record(locked, current=current, to=to, machine=machine, actor=actor, reason=reason, org_path=org_path)
        log_action(
            actor=actor,
            action=action,
            target=locked,
            organization=organization,
            data={"from_state": current, "to_state": to, **({"reason": reason} if reason else {}), **(data or {})},
            ip_address=ip_address,
        )
    return locked
