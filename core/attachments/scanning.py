"""The virus-scan hook: ATTACHMENT_SCANNER names a callable scan(path) -> result.

The callable returns "clean", "infected" or "unavailable" (the scanner could not run:
the file is kept as "pending" and can be downloaded once a later scan clears it). The
default, for machines without a scanner, returns "not_scanned". A ClamAV deployment
points the setting at a small function calling clamd; nothing else changes.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

CLEAN = "clean"
INFECTED = "infected"
UNAVAILABLE = "unavailable"
NOT_SCANNED = "not_scanned"

logger = logging.getLogger(__name__)


def scan_not_configured(path: str) -> str:
    """No scanner installed: the file is stored as not scanned."""
    return NOT_SCANNED


def scan_file(path: str) -> str:
    """Run the configured scanner; a crash or an unknown answer counts as "unavailable"."""
    scanner = import_string(settings.ATTACHMENT_SCANNER)
    try:
        result = scanner(path)
    except Exception:
        # A scanner outage must not turn an upload into a 500; the file waits as pending.
        logger.exception("attachment scanner %s failed", settings.ATTACHMENT_SCANNER)
        return UNAVAILABLE
    if result not in (CLEAN, INFECTED, UNAVAILABLE, NOT_SCANNED):
        logger.error("attachment scanner %s answered %r", settings.ATTACHMENT_SCANNER, result)
        return UNAVAILABLE
    return result
