"""Workers hear of events on their phone inbox: their application approved, a session of their case set."""

import datetime as dt

from django.utils import timezone

from activity.models import Notification
from disputes import services as dispute_services
from disputes.models import Case
from members import services as member_services
from members.models import Member
from tests.disputes.conftest import receive
from tests.members.pages_helpers import submit_application


def test_an_approved_applicant_finds_it_in_their_inbox(tree, owner):
    code = member_services.join_code_create(actor=owner, union=tree["pd_union"])
    application = submit_application(code, name="新会员", mobile="13900003333")
    membership = member_services.join_application_approve(actor=owner, application=application)
    user = Member.objects.get(pk=membership.member_id).user
    message = Notification.objects.get(recipient=user)
    assert message.kind == "members.application_approved" and message.url == "/me/card/"
    # Approving is once only, and so is the message.
    assert Notification.objects.filter(kind="members.application_approved").count() == 1


def test_the_applicant_is_told_of_a_coming_session_not_of_a_past_one(tree, owner, bodies, mediators, worker):
    case = receive(owner, bodies["pudong"], received_on=timezone.localdate() - dt.timedelta(days=2))
    Case.objects.filter(pk=case.pk).update(applicant_user=worker)
    case = dispute_services.case_accept(case=Case.objects.get(pk=case.pk), actor=owner)
    case = dispute_services.case_assign(case=case, actor=owner, mediator=mediators["wages"])
    past = timezone.now() - dt.timedelta(hours=2)
    dispute_services.session_record(case=case, actor=owner, held_at=past, place="调解室", attendees="双方")
    assert not Notification.objects.filter(recipient=worker).exists()
    coming = timezone.now() + dt.timedelta(days=2)
    dispute_services.session_record(case=case, actor=owner, held_at=coming, place="陆家嘴调解室", attendees="双方")
    message = Notification.objects.get(recipient=worker)
    assert message.kind == "disputes.session_scheduled" and case.number in message.title
    assert "陆家嘴调解室" in message.body and message.url == "/me/disputes/"
