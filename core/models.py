"""Models every domain shares: transition history, approval chains, attachments."""
