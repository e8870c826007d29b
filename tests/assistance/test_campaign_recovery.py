"""Lost broker messages of aid campaigns: a campaign no longer stays "进行中" with progress 0 for ever.

The beat sweep (assistance.services.campaigns.campaigns_redispatch) sends a started campaign
again when no worker took it within the bound or its worker died (lease expired); a re-run
pays nobody twice, and a campaign that keeps failing is failed with what to do.
"""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from assistance import services
from assistance.models import Campaign, Grant
from assistance.services import campaigns
from tests.factories import UserFactory
from tests.racing import at_once

from .helpers import registered

CS = Campaign.Status
BOUND = campaigns.redispatch_after()


def _started(actor, org, union, budget, *, files: int, sent_ago: dt.timedelta, django_capture_on_commit_callbacks):
    """A started campaign whose run message was sent `sent_ago` and never arrived (the message lost)."""
    for _ in range(files):
        registered(actor, union, budget)
    campaign = services.campaign_create(
        actor=actor, organization=org, kind="warmth", name="春节送温暖", budget=budget, amount_per_file="300"
    )
    with django_capture_on_commit_callbacks(execute=False) as sent:  # the message is lost
        campaign = services.campaign_start(actor=actor, campaign=campaign)
    assert len(sent) == 1
    Campaign.objects.filter(pk=campaign.pk).update(dispatched_at=timezone.now() - sent_ago)
    campaign.refresh_from_db()
    assert campaign.status == CS.RUNNING and campaign.progress_done == 0 and campaign.claimed_until is None
    return campaign


@pytest.fixture
def lost(tree, standard, budget, pd_aid, django_capture_on_commit_callbacks):
    def make(sent_ago=BOUND + dt.timedelta(minutes=1), files=3):
        return _started(
            pd_aid,
            tree["pudong"],
            tree["pd_union"],
            budget,
            files=files,
            sent_ago=sent_ago,
            django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
        )

    return make


def test_a_started_campaign_never_run_is_sent_again_after_the_bound_and_done(lost, django_capture_on_commit_callbacks):
    campaign = lost()
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_redispatch() == {"redispatched": 1, "given_up": 0}
    campaign.refresh_from_db()
    assert campaign.status == CS.DONE and campaign.progress_done == 3 and campaign.claimed_until is None
    assert campaign.redispatches == 1 and campaign.attempts == 1
    assert Grant.objects.filter(campaign=campaign).count() == 3
    assert AuditEvent.objects.filter(action="aid.campaign_redispatched", target_id=str(campaign.pk)).count() == 1


def test_within_the_bound_and_once_per_bound(lost, django_capture_on_commit_callbacks):
    campaign = lost(sent_ago=BOUND - dt.timedelta(minutes=1))
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert campaigns.campaigns_redispatch(now=now)["redispatched"] == 0
        later = now + dt.timedelta(minutes=2)
        assert campaigns.campaigns_redispatch(now=later)["redispatched"] == 1
        for minutes in (1, 10, BOUND.total_seconds() // 60 - 1):
            assert campaigns.campaigns_redispatch(now=later + dt.timedelta(minutes=minutes))["redispatched"] == 0
        assert campaigns.campaigns_redispatch(now=later + BOUND + dt.timedelta(seconds=1))["redispatched"] == 1
    assert len(sent) == 2
    campaign.refresh_from_db()
    assert campaign.redispatches == 2 and campaign.status == CS.RUNNING and campaign.progress_done == 0


def test_a_live_workers_run_is_not_doubled_and_a_dead_ones_is_continued(lost, django_capture_on_commit_callbacks):
    campaign = lost(files=4)
    # A worker holds the run (lease in the future) after granting one file's chunk… simulated
    # by the lease alone: a duplicate message does nothing, the sweep leaves it alone.
    Campaign.objects.filter(pk=campaign.pk).update(attempts=1, claimed_until=timezone.now() + dt.timedelta(minutes=5))
    assert services.campaign_run(campaign.pk).status == CS.RUNNING
    assert Grant.objects.filter(campaign=campaign).count() == 0
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert campaigns.campaigns_redispatch()["redispatched"] == 0
    assert sent == []
    # The worker died after its first chunk: some grants exist, the lease runs out.
    first = campaigns.campaign_files(campaign).values_list("id", flat=True)[:2]
    campaigns._campaign_chunk(campaign, list(first))
    Campaign.objects.filter(pk=campaign.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_redispatch()["redispatched"] == 1
    campaign.refresh_from_db()
    assert campaign.status == CS.DONE and campaign.attempts == 2
    assert Grant.objects.filter(campaign=campaign).count() == 4  # nobody paid twice


def test_a_campaign_is_failed_after_three_interrupted_runs_and_can_be_started_again(
    lost, pd_aid, django_capture_on_commit_callbacks
):
    campaign = lost()
    Campaign.objects.filter(pk=campaign.pk).update(
        attempts=campaigns.MAX_ATTEMPTS, claimed_until=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert campaigns.campaigns_redispatch() == {"redispatched": 0, "given_up": 1}
        assert campaigns.campaigns_redispatch() == {"redispatched": 0, "given_up": 0}
    assert sent == []
    campaign.refresh_from_db()
    assert campaign.status == CS.FAILED and "3 次中断" in campaign.message and "再次启动" in campaign.message
    assert campaign.claimed_until is None
    assert AuditEvent.objects.filter(action="aid.campaign_given_up", target_id=str(campaign.pk)).count() == 1
    # Started again once the fault is fixed: a new run, counted from zero.
    with django_capture_on_commit_callbacks(execute=True):
        campaign = services.campaign_start(actor=pd_aid, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CS.DONE and campaign.attempts == 1 and campaign.redispatches == 0


def test_a_campaign_no_worker_ever_takes_is_failed_after_six_sends(lost, django_capture_on_commit_callbacks):
    campaign = lost()
    Campaign.objects.filter(pk=campaign.pk).update(redispatches=campaigns.MAX_REDISPATCHES)
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert campaigns.campaigns_redispatch() == {"redispatched": 0, "given_up": 1}
    assert sent == []
    campaign.refresh_from_db()
    assert campaign.status == CS.FAILED and "6 次" in campaign.message and "工作进程" in campaign.message


def test_the_operations_view_lists_the_resent_campaign(lost, django_capture_on_commit_callbacks):
    campaign = lost()
    with django_capture_on_commit_callbacks(execute=False):
        campaigns.campaigns_redispatch()
    assert [c.pk for c in campaigns.campaigns_lost()] == [campaign.pk]
    admin = UserFactory(username="ops-admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    body = c.get(reverse("operations")).content.decode()
    section = body[body.index('id="lost-jobs"') :]
    assert "春节送温暖" in section


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_send_a_campaign_once(postgres_only):
    """Four sweeps at the same moment on their own connections: one claim wins, one run grants."""
    from tests.assistance.conftest import _officer
    from tests.assistance.helpers import make_budget, publish_standard
    from tests.conftest import make_tree

    tree = make_tree()
    owner = UserFactory(username="sweep-owner", is_superuser=True)
    publish_standard(owner)
    budget = make_budget(owner, tree["pudong"])
    aid = _officer("sweep_aid", tree["pudong"])
    for _ in range(3):
        registered(aid, tree["pd_union"], budget)
    campaign = services.campaign_create(
        actor=aid, organization=tree["pudong"], kind="warmth", name="并发", budget=budget, amount_per_file="300"
    )
    # Started, its message lost (campaign_start here would run it at once: eager tasks on commit).
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CS.RUNNING, progress_total=3, dispatched_at=timezone.now() - BOUND - dt.timedelta(minutes=1)
    )
    now = timezone.now()
    results = at_once(lambda: campaigns.campaigns_redispatch(now=now)["redispatched"])
    assert sorted(results) == [0, 0, 0, 1]
    campaign.refresh_from_db()
    assert campaign.redispatches == 1 and campaign.status == CS.DONE and campaign.attempts == 1
    assert Grant.objects.filter(campaign=campaign).count() == 3
