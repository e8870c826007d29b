"""Fixtures of the mediation tests: a street centre in each district, mediators, a head, a district manager."""

import datetime as dt

import pytest

from disputes import clock, services
from disputes.models import BodyKind, DisputeKind, Mediator
from tests.conftest import _staff
from tests.factories import make_id_number

D = dt.date


@pytest.fixture
def district_admin(tree):
    return _staff("pd_admin", tree["pudong"], "federation_admin")


@pytest.fixture
def bodies(tree, owner):
    return {
        "pudong": services.body_create(
            actor=owner, organization=tree["lujiazui"], name="陆家嘴街道劳动争议调解中心", kind=BodyKind.STREET
        ),
        "huangpu": services.body_create(
            actor=owner, organization=tree["nanjing"], name="南京东路街道劳动争议调解中心", kind=BodyKind.STREET
        ),
    }


def _mediator(owner, body, username, org, **kw):
    user = _staff(username, org, "mediator")
    return services.mediator_add(
        actor=owner, body=body, user=user, name=kw.pop("name", username), employment=Mediator.Employment.FULL_TIME, **kw
    )


@pytest.fixture
def mediators(tree, owner, bodies):
    return {
        "head": _mediator(owner, bodies["pudong"], "pd_head", tree["lujiazui"], name="王主任", is_head=True),
        "wages": _mediator(
            owner, bodies["pudong"], "pd_wages", tree["lujiazui"], name="李调解", specialities=[DisputeKind.WAGES]
        ),
        "other": _mediator(owner, bodies["pudong"], "pd_other", tree["lujiazui"], name="赵调解"),
        "huangpu": _mediator(owner, bodies["huangpu"], "hp_med", tree["nanjing"], name="黄调解", is_head=True),
    }


def applicant(name="张三", **kw):
    return {"name": name, "id_number": make_id_number(), **kw}


def receive(actor, body, **kw):
    fields = {
        "channel": "walk_in",
        "kind": DisputeKind.WAGES,
        "facts": "公司自 2026 年 8 月起拖欠工资三个月。",
        "claims": [{"description": "支付拖欠工资", "amount": "12345.60"}],
        "applicants": [applicant()],
        "respondent_name": "浦东测试科技有限公司",
        "received_on": D(2026, 11, 2),
    }
    fields.update(kw)
    return services.case_receive(actor=actor, body=body, **fields)


@pytest.fixture
def freeze_today(monkeypatch):
    """Pin 'today' of the services (2026: the last year the holiday calendar knows)."""

    def pin(day):
        monkeypatch.setattr(clock, "today", lambda: day)
        return day

    pin(D(2026, 11, 10))
    return pin
