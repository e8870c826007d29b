"""Loaded by the lost-message drill's first worker only (celery worker --include): its report
builds stop at the PDF step and wait there, so the drill can kill the worker mid-build."""

import os
import time

from reports import files

if os.environ.get("REPORT_DRILL_HANG_AT_PDF"):

    def _hang(data):
        time.sleep(600)
        raise RuntimeError("the drill's worker should have been killed by now")

    files.pdf = _hang
