"""One limit for one action, whatever the door (issue 16, finding 3).

The join page allowed 10 applications per 15 minutes per address while the API allowed
300 an hour from the same address. Both now count in one limiter (members/throttle.py),
read from JOIN_RATE_LIMIT / JOIN_RATE_WINDOW_SECONDS.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from members import services
from members.models import JoinApplication
from tests.factories import make_id_number, nth_name


@pytest.fixture
def signed(tree, owner):
    cache.clear()
    yield services.join_code_public(services.join_code_create(actor=owner, union=tree["pd_union"]))
    cache.clear()


def _api(signed, i):
    form = {
        "name": nth_name("接口", i),
        "id_number": make_id_number(region="310115"),
        "mobile": f"1360000{i:04d}",
        "employment_form": "rider",
        "consent": True,
        "password": "Probe-pass-2024",
    }
    return APIClient().post(f"/api/v1/join/{signed}/", form, format="json")


def _page(signed, i):
    form = {
        "name": nth_name("页面", i),
        "id_number": make_id_number(region="310115"),
        "mobile": f"1370000{i:04d}",
        "employment_form": "rider",
        "password": "Probe-pass-2024",
        "password2": "Probe-pass-2024",
        "consent": "on",
    }
    return Client().post(f"/join/{signed}/", form)


def test_page_and_api_share_one_limit_per_address(signed, settings):
    settings.JOIN_RATE_LIMIT = 4
    answers = [_page(signed, 0).status_code, _api(signed, 1).status_code]
    answers += [_page(signed, 2).status_code, _api(signed, 3).status_code]
    assert answers == [302, 202, 302, 202]
    assert _api(signed, 4).status_code == 429
    assert _page(signed, 5).status_code == 429
    assert JoinApplication.objects.count() == 4


def test_the_api_alone_stops_at_the_same_limit_as_the_page(signed, settings):
    settings.JOIN_RATE_LIMIT = 3
    codes = [_api(signed, i).status_code for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]
    body = _api(signed, 9).json()
    assert body["error"]["code"] == "throttled" and body["error"]["message"]


def test_reading_the_code_does_not_use_up_the_limit(signed, settings):
    settings.JOIN_RATE_LIMIT = 1
    for _ in range(3):
        assert APIClient().get(f"/api/v1/join/{signed}/").status_code == 200
    assert _api(signed, 0).status_code == 202


def test_the_limit_stays_lenient_while_the_cache_is_down(signed, settings):
    # Redis down: ResilientRedisCache drops writes and misses reads; applications still go in.
    settings.JOIN_RATE_LIMIT = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "unionportal.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "KEY_PREFIX": "t",
        }
    }
    assert [_api(signed, i).status_code for i in range(3)] == [202, 202, 202]
