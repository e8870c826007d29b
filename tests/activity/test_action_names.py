"""The audit log speaks readable action names and filters by them (issue 15 item 7)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from core.audit import action_label, log_action

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r'action="([a-z_]+\.[a-z_.]+)"')


def _codes_in(apps=("core", "organizations", "activity", "members", "reports")) -> set[str]:
    found = set()
    for app in apps:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found |= set(CODE.findall(path.read_text(encoding="utf-8")))
    found |= {f"member.membership_{s}" for s in ("left", "retired", "deceased", "transferred_out")}
    return found


def test_every_action_the_portal_records_has_a_readable_name():
    missing = sorted(code for code in _codes_in() if action_label(code) == code or "." in action_label(code))
    assert not missing, f"give these audit actions a name (core.audit.register_action_labels): {missing}"


@pytest.fixture
def pages(client, owner):
    client.force_login(owner)
    return client


def test_the_audit_page_shows_names_and_filters_by_them(pages, tree, owner):
    log_action(actor=owner, action="member.join_approved", organization=tree["pd_union"])
    log_action(actor=owner, action="organization.moved", organization=tree["pd_union"])
    html = pages.get(reverse("audit-log")).content.decode()
    assert "批准入会申请" in html and "移动组织" in html
    assert ">member.join_approved<" not in html  # the code is no longer the text
    assert 'placeholder="organization."' not in html
    # The filter is a list of names grouped by area; choosing one shows only its events.
    assert '<option value="member.join_approved">批准入会申请</option>' in html
    only = pages.get(reverse("audit-log"), {"action": "member.join_approved"}).content.decode()
    assert "批准入会申请" in only.split("<tbody", 1)[1] and "移动组织" not in only.split("<tbody", 1)[1]
    area = pages.get(reverse("audit-log"), {"action": "organization."}).content.decode()
    assert "移动组织" in area.split("<tbody", 1)[1] and "批准入会申请" not in area.split("<tbody", 1)[1]


def test_an_unknown_code_still_reads_as_its_area():
    assert action_label("member.something_new").startswith("会员")


def test_the_api_gives_the_name_beside_the_code(tree, owner):
    from tests.conftest import client_for

    log_action(actor=owner, action="member.join_approved", organization=tree["pd_union"])
    row = client_for(owner).get("/api/v1/audit-events/").json()["results"][0]
    assert row["action"] == "member.join_approved" and row["action_label"] == "批准入会申请"
