"""The ground floor: what is not a domain but every domain needs.

Errors and their one translation, the API, page and admin kits, documents (QR, PDF, xlsx/csv),
personal-data crypto, the audit entry point, the task outbox, the state-machine helper and
private attachments. Nothing here imports a domain app.
"""
