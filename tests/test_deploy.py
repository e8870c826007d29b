"""The systemd units in deploy/ start what they say: each worker's node name is one Celery
accepts, and the web unit serves the release `current` names after a reload."""

import re
import shlex

from celery.utils.nodenames import host_format

from tests.test_settings import ROOT

SYSTEMD = ROOT / "deploy" / "systemd"


def _exec_start(unit: str, instance: str = "") -> list[str]:
    """The ExecStart line's words after systemd's own expansion of %i and %%."""
    text = (SYSTEMD / unit).read_text()
    line = re.search(r"^ExecStart=(.*?)(?<!\\)$", text, re.S | re.M).group(1)
    line = line.replace("\\\n", " ").replace("%i", instance).replace("%%", "%")
    return shlex.split(line)


def test_each_workers_node_name_is_one_celery_accepts():
    for queue in ("default", "imports", "reports", "reminders"):
        words = _exec_start("unionportal-worker@.service", queue)
        name = words[words.index("-n") + 1]
        # Celery expands %h, %n, %d and %i; any other key refuses to start the worker.
        assert host_format(name).startswith(f"{queue}@"), name


def test_every_worker_queue_has_its_limits_file():
    words = _exec_start("unionportal-worker@.service", "default")
    needed = {m for word in words for m in re.findall(r"\$\{(\w+)\}", word)}
    for queue in ("default", "imports", "reports", "reminders"):
        text = (SYSTEMD / f"worker-{queue}.env").read_text()
        assert needed <= set(re.findall(r"^(\w+)=", text, re.M)), queue


def test_the_web_unit_reloads_into_the_release_current_names():
    words = _exec_start("unionportal-web.service")
    # systemd sets no $PWD: without --chdir gunicorn would reload the release it started in.
    assert words[words.index("--chdir") + 1] == "/opt/unionportal/current"
