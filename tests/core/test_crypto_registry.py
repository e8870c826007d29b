"""The registry of encrypted fields, and key rotation driven by it (not by a list in the command)."""

import ast
import inspect
import io
import re

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldDoesNotExist
from django.core.management import call_command

from core import crypto
from members import services
from members.models import Honour, JoinApplication, Member
from tests.factories import make_member


def test_members_register_their_encrypted_fields():
    fields = crypto.encrypted_fields()
    assert fields[Member] == ("id_number_enc", "mobile_enc")
    assert fields[JoinApplication] == ("id_number_enc", "mobile_enc")


def test_a_misspelt_field_is_refused_at_registration(monkeypatch):
    monkeypatch.setattr(crypto, "_REGISTRY", dict(crypto._REGISTRY))
    with pytest.raises(FieldDoesNotExist):
        crypto.register_encrypted_field(Honour, "no_such_field")


def test_registering_twice_keeps_one_entry(monkeypatch):
    monkeypatch.setattr(crypto, "_REGISTRY", dict(crypto._REGISTRY))
    crypto.register_encrypted_field(Honour, "note")
    crypto.register_encrypted_field(Honour, "note")
    assert crypto.encrypted_fields()[Honour] == ("note",)


def test_a_field_registered_by_another_app_rotates_without_editing_the_command(tree, owner, settings, monkeypatch):
    """Honour.note stands in for a new app's encrypted field: registered, it is rotated."""
    monkeypatch.setattr(crypto, "_REGISTRY", dict(crypto._REGISTRY))
    crypto.register_encrypted_field(Honour, "note")
    member = make_member(tree["pd_union"], actor=owner).member
    honour = services.honour_add(actor=owner, member=member, kind="city_craftsman", year=2025)
    Honour.objects.filter(pk=honour.pk).update(note=crypto.encrypt("困难职工帮扶档案 001"))
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    assert not crypto.is_current(Honour.objects.get(pk=honour.pk).note)

    out = io.StringIO()
    call_command("rotate_field_keys", "--batch-size", "1", stdout=out)

    token = Honour.objects.get(pk=honour.pk).note
    assert crypto.is_current(token)
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # old key retired
    assert crypto.decrypt(token) == "困难职工帮扶档案 001"
    assert "members.Honour: re-encrypted 1 rows" in out.getvalue()
    assert "members.Member: re-encrypted 1 rows" in out.getvalue()


def test_the_command_knows_no_model_itself():
    """It reads core.crypto's registry: it imports no domain app and names no field."""
    from core.management.commands import rotate_field_keys

    source = inspect.getsource(rotate_field_keys)
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m.split(".")[0] in ("members", "organizations")}, imported
    assert not re.search(r"[\"']\w+_enc[\"']", source) and "encrypted_fields()" in source
