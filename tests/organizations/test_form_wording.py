"""Every staff form lists all its errors at once, in the portal's wording (issue 15 item 4)."""

import pytest
from django.urls import reverse
from django.utils import translation

STOCK = ("该字段是必填项", "输入整数", "---------", "This field is required", "Enter a whole number")


def _post(client, user, url, data, lang="zh-hans"):
    client.force_login(user)
    client.cookies["django_language"] = lang
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=lang)


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_enterprise_form_speaks_the_portal_wording(client, owner, lang):
    url = reverse("enterprise-create")
    client.force_login(owner)
    client.cookies["django_language"] = lang
    page = client.get(url).content.decode()
    assert not [s for s in STOCK if s in page]
    resp = _post(client, owner, url, {"name": "", "employees": "many", "credit_code": ""}, lang)
    body = resp.content.decode()
    assert resp.status_code == 400
    assert not [s for s in STOCK if s in body]
    if lang == "en":
        assert "Please fill in" in body and "whole number" in body
    else:
        assert "请填写“" in body and "应为整数" in body


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_add_union_form_speaks_the_portal_wording(client, owner, tree, lang):
    url = reverse("org-create-child", args=[tree["lujiazui"].pk])
    client.force_login(owner)
    client.cookies["django_language"] = lang
    assert "---------" not in client.get(url).content.decode()
    resp = _post(client, owner, url, {"name": "", "kind": ""}, lang)
    body = resp.content.decode()
    assert resp.status_code == 400 and not [s for s in STOCK if s in body]
    assert ("请选择“" in body) if lang != "en" else ("Please choose" in body)


def test_the_register_form_lists_every_error_at_once(client, clerk, tree):
    url = reverse("member-register")
    resp = _post(
        client,
        clerk,
        url,
        {
            "union": tree["pd_union"].pk,
            "name": "<b>x</b>",
            "id_number": "123",
            "mobile": "555",
            "employment_form": "full_time",
            "employer_name": "a<b",
        },
    )
    body = resp.content.decode()
    assert resp.status_code == 400
    for field in ("name", "id_number", "mobile", "employer_name"):
        assert f'id="id_{field}_errors"' in body, field
    # The summary at the top lists each problem with a link to its field.
    assert 'href="#id_mobile"' in body
    translation.activate("zh-hans")
