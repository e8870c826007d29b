"""Admin registrations of core models (each kit registers its own)."""

from .attachments import admin as attachments_admin  # noqa: F401
