"""The demo city has aid data in every state and the aidofficer login."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from assistance.demo import seed_aid
from assistance.models import Budget, FileStatus, HardshipFile
from assistance.selectors import budget_from_ledger, files_for
from organizations.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_demo_has_files_in_every_state_and_the_aid_officer(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", verbosity=0)
    assert set(HardshipFile.objects.values_list("status", flat=True)) == set(FileStatus.values)
    assert HardshipFile.objects.filter(is_emergency=True).exists()
    officer = authenticate(username="aidofficer", password=DEMO_PASSWORD)
    assert officer is not None
    seen = files_for(officer)
    assert seen.count() >= len(FileStatus.values)
    for b in Budget.objects.all():
        assert budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
    assert seed_aid() == {"aid_files": 0}
