"""The API's JSON renderer gives DRF's bytes; its negotiation picks what DRF picks."""

import datetime as dt
import decimal
import json
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy, override
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.api_defaults import ContentNegotiation, JSONRenderer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

VALUES = [
    None,
    True,
    0,
    -7,
    2**63 - 1,
    2**70,  # beyond orjson: DRF renders it
    1.5,
    0.1,
    123456789.125,
    -2.5e-3,
    "",
    "张三",
    'quote " backslash \\ tab \t newline \n control \x01',
    "line\u2028para\u2029end",
    "emoji 🀄 and 𠀀",
    gettext_lazy("会员列表"),
    dt.date(2024, 2, 29),
    dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=SHANGHAI),
    dt.datetime(2024, 1, 2, 3, 4, 5, 120000),
    dt.time(8, 30, 15, 250000),
    dt.timedelta(days=1, seconds=5),
    decimal.Decimal("12.50"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    b"bytes",
    ("a", "tuple"),
    [],
    {},
    {"nested": [{"a": 1, "b": [None, "x"]}], "空": {}},
    {1: "int key"},  # beyond orjson: DRF renders it
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_it_renders_every_kind_of_value_as_drf_does(value):
    assert JSONRenderer().render(value) == DRFJSONRenderer().render(value)


@pytest.mark.parametrize("value", [1e-05, 3.5e-7, 1e16, 1.25e22, -4e-9])
def test_it_writes_very_small_and_very_large_floats_as_the_same_number(value):
    # The one difference: Python writes 1e-05, orjson 0.00001 (both JSON, the same value).
    ours, drfs = JSONRenderer().render([value]), DRFJSONRenderer().render([value])
    assert json.loads(ours) == json.loads(drfs) == [value]


def test_it_renders_drfs_return_containers_and_translations_in_the_active_language():
    data = ReturnDict(
        {"results": ReturnList([{"label": gettext_lazy("会员列表"), "on": dt.date(2024, 5, 1)}], serializer=None)},
        serializer=None,
    )
    for language in ("zh-hans", "en"):
        with override(language):
            assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def test_it_pretty_prints_as_drf_when_asked():
    data = {"a": [1, 2], "b": "张三"}
    for media_type in ("application/json; indent=4", "application/json; indent=0"):
        assert JSONRenderer().render(data, media_type) == DRFJSONRenderer().render(data, media_type)
    ctx = {"indent": 2}
    assert JSONRenderer().render(data, None, ctx) == DRFJSONRenderer().render(data, None, ctx)


def test_it_gives_nothing_for_none():
    assert JSONRenderer().render(None) == b""


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json; indent=4", "text/html", "text/html, */*", "image/png"],
)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
def test_it_negotiates_as_drf_does(accept, query):
    factory = APIRequestFactory()
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]

    def pick(negotiation):
        request = Request(factory.get("/api/v1/members/" + query, **headers))
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers)
        except Exception as exc:  # NotAcceptable / Http404 must be the same too
            return type(exc).__name__
        return type(renderer).__name__, media_type

    assert pick(ContentNegotiation()) == pick(DefaultContentNegotiation())


def test_it_negotiates_as_drf_does_when_json_is_not_the_first_renderer():
    factory = APIRequestFactory()
    renderers = [BrowsableAPIRenderer(), JSONRenderer()]
    for accept in ("*/*", "application/json"):
        ours = ContentNegotiation().select_renderer(Request(factory.get("/", HTTP_ACCEPT=accept)), renderers)
        drfs = DefaultContentNegotiation().select_renderer(Request(factory.get("/", HTTP_ACCEPT=accept)), renderers)
        assert (type(ours[0]), ours[1]) == (type(drfs[0]), drfs[1])
