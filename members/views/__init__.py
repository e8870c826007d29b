"""Server-rendered pages of the members app.

staff (under /members/): roll, detail, registration, reveal, leaving, honours, export,
  approval queue, transfers, imports, join codes;
public (no sign-in): scan-to-join form and the member-card verification page;
self-service (worker accounts, under /me/): card and PDF, membership, transfer, data, leaving.
"""

from . import imports, joincodes, public, queue, roll, selfservice, transfers

__all__ = ["imports", "joincodes", "public", "queue", "roll", "selfservice", "transfers"]
