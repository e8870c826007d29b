"""Email backends for the real-worker reminder tests (the worker is another process: it writes to a file).

NOTIFY_TEST_MAIL_LOG: the file each sent message appends one line to (recipient and subject);
NOTIFY_TEST_MAIL_SLEEP: seconds SlowEmailBackend waits before sending (the worker is killed meanwhile).
"""

import os
import time


class RecordingEmailBackend:
    def __init__(self, *args, **kwargs):
        self.path = os.environ["NOTIFY_TEST_MAIL_LOG"]

    def send_messages(self, messages):
        with open(self.path, "a", encoding="utf-8") as log:
            for message in messages:
                log.write(f"{','.join(message.to)}\t{message.subject}\n")
        return len(messages)


class SlowEmailBackend(RecordingEmailBackend):
    def send_messages(self, messages):
        time.sleep(float(os.environ.get("NOTIFY_TEST_MAIL_SLEEP", "60")))
        return super().send_messages(messages)
