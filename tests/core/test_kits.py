"""The ground floor's kits: one translation of refusals, the service-form helper, the registries."""

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import RequestFactory

from core import audit, scoping
from core.api import exception_handler
from core.errors import NOT_IN_REACH, DomainError, TransitionError, refusal
from core.pages import service_form


class NameForm(forms.Form):
    name = forms.CharField()
    note = forms.CharField(required=False)


def _errors(exc, field_map=None):
    form = NameForm({"name": "x"})
    form.is_valid()
    refusal(exc).on_form(form, field_map)
    return {k: list(v) for k, v in form.errors.items()}


def test_it_puts_a_named_field_on_that_field_and_anything_else_at_the_top():
    assert _errors(ValidationError({"name": "短了", "missing": "不在表单上"})) == {
        "name": ["短了"],
        "__all__": ["不在表单上"],
    }
    assert _errors(DomainError("已办理", field="note")) == {"note": ["已办理"]}
    assert _errors(TransitionError("状态不对")) == {"__all__": ["状态不对"]}
    assert _errors(ValidationError(["一", "二"])) == {"__all__": ["一", "二"]}
    assert _errors(DomainError("x", field="union"), {"union": "name"}) == {"name": ["x"]}


def test_it_words_not_found_and_forbidden_for_forms_and_messages():
    assert _errors(Http404()) == {"__all__": [str(NOT_IN_REACH)]}
    assert refusal(PermissionDenied("不行")).text == "不行"
    assert refusal(PermissionDenied()).status == 403
    assert refusal(KeyError("bug")) is None


def test_the_api_answers_with_the_same_translation():
    exc = DomainError("已有进行中的转接", code="transfer_open", field="member")
    found = refusal(exc)
    response = exception_handler(exc, {})
    assert response.status_code == found.status == 409
    assert response.data == {
        "error": {"code": "transfer_open", "message": found.message, "fields": {"member": [found.message]}}
    }
    body = exception_handler(ValidationError({"__all__": ["整体不对"]}), {}).data
    assert body["error"]["fields"] == {"non_field_errors": ["整体不对"]}
    assert exception_handler(ValidationError(["甲", "乙"]), {}).data == {
        "error": {"code": "invalid", "message": "甲；乙"}
    }


def _post(data):
    request = RequestFactory().post("/x/", data)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_service_form_builds_the_page_context_only_when_it_shows_the_page():
    built = []

    def context():
        built.append(1)
        return {}

    ok = service_form(
        _post({"name": "a"}),
        NameForm({"name": "a"}),
        template="accounts/no_role.html",
        context=context,
        save=lambda data: ("好", ("/done/",)),
    )
    assert ok.status_code == 302 and ok["Location"] == "/done/"
    assert built == []

    def refuse(data):
        raise DomainError("名称已被使用", field="name")

    form = NameForm({"name": "a"})
    page = service_form(_post({"name": "a"}), form, template="accounts/no_role.html", context=context, save=refuse)
    assert page.status_code == 400
    assert form.errors["name"] == ["名称已被使用"]
    assert built == [1]


def test_core_refuses_clearly_when_nothing_is_registered(monkeypatch):
    monkeypatch.setattr(audit, "_sink", None)
    with pytest.raises(RuntimeError, match="audit writer"):
        audit.log_action(actor=None, action="x.y")
    monkeypatch.setattr(scoping, "_assignment_source", None)

    class Staff:
        is_authenticated = is_active = True
        is_superuser = False
        kind = "staff"

    with pytest.raises(RuntimeError, match="role-assignment source"):
        scoping.reach_paths(Staff())
