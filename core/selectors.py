"""Scoped reads of the shared models (call only for an object the user may already see)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import ApprovalDecision, ApprovalRun, TransitionRecord


def transition_history(obj: models.Model) -> list[TransitionRecord]:
    """The object's state changes, oldest first: its timeline."""
    return list(
        TransitionRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).order_by("at", "id")
    )


def approval_runs(obj: models.Model) -> list[ApprovalRun]:
    """The object's approval runs, newest first, with their chain version."""
    return list(
        ApprovalRun.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
        .select_related("chain", "current_step")
        .order_by("-id")
    )


def approval_decisions(run: ApprovalRun) -> list[ApprovalDecision]:
    return list(run.decisions.select_related("step", "approver").order_by("at", "id"))
