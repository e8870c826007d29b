"""Models every domain shares: transition history, approval chains, attachments."""

from .attachments.models import Attachment

__all__ = ["Attachment"]
