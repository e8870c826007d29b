from cryptography.fernet import Fernet, MultiFernet
from django.core.management import call_command
from django.db import connection

from core import crypto
from members.models import Member
from tests.factories import make_id_number, make_member


def test_it_round_trips_and_masks():
    token = crypto.encrypt("310115199001011234")
    assert token != "310115199001011234" and crypto.decrypt(token) == "310115199001011234"
    assert crypto.mask_id("310115199001011234") == "310***********1234"
    assert crypto.mask_mobile("13812345678") == "138****5678"


def test_batch_tokens_open_with_standard_fernet(settings):
    values = [make_id_number() for _ in range(50)] + ["13812345678", "", "张三" * 9]
    tokens = crypto.BatchEncryptor().encrypt_many(values)
    f = MultiFernet([Fernet(k) for k in settings.FIELD_ENCRYPTION_KEYS])
    assert [f.decrypt(t.encode()).decode() for t in tokens] == values
    assert len(set(tokens)) == len(tokens)  # fresh IV per token


def test_blind_index_is_keyed_and_purpose_separated(settings):
    a = crypto.id_hash("310115199001011234")
    assert a == crypto.BlindIndexer().id_number("310115199001011234")
    assert crypto.mobile_hash("310115199001011234") != a
    settings.BLIND_INDEX_KEY = "another-key"
    assert crypto.id_hash("310115199001011234") != a


def test_rotation_command_reencrypts_under_the_newest_key(tree, owner, settings):
    idn = make_id_number()
    ms = make_member(tree["pd_union"], actor=owner, id_number=idn, mobile="13911112222")
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    m = Member.objects.get(pk=ms.member_id)
    assert not crypto.is_current(m.id_number_enc)
    call_command("rotate_field_keys", "--batch-size", "1")
    m.refresh_from_db()
    assert crypto.is_current(m.id_number_enc) and crypto.is_current(m.mobile_enc)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # old key retired: data still readable
    assert crypto.decrypt(m.id_number_enc) == idn and crypto.decrypt(m.mobile_enc) == "13911112222"


def test_no_plaintext_id_number_anywhere_in_the_database(tree, owner, clerk, tmp_path, settings):
    """Dump every table's text after members are registered, joined, imported and audited."""
    from members import services
    from members.importer import import_rows

    settings.MEDIA_ROOT = str(tmp_path)
    ids = [make_id_number() for _ in range(4)]
    mobiles = ["13811110001", "13811110002", "13811110003", "13811110004"]
    make_member(tree["pd_union"], actor=clerk, id_number=ids[0], mobile=mobiles[0])
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name="甲",
        id_number=ids[1],
        mobile=mobiles[1],
        employment_form="rider",
        consent=True,
        password="Abcdef-12345",
    )
    services.join_application_approve(actor=clerk, application=app)
    import_rows(
        actor=clerk,
        union=tree["pd_union"],
        rows=[
            {"name": "乙", "id_number": ids[2], "mobile": mobiles[2]},
            {"name": "丙", "id_number": "bad", "mobile": mobiles[3]},
        ],
        mode="valid_only",
    )
    member = Member.objects.get(id_number_hash=crypto.id_hash(ids[0]))
    services.member_reveal(actor=owner, member=member)
    services.member_update_contact(actor=clerk, member=member, mobile="13811110009")
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(str(v) for row in cursor.fetchall() for v in row if v is not None)
    text = "\n".join(dump)
    assert Member.objects.count() == 3
    for secret in [*ids, *mobiles, "13811110009"]:
        assert secret not in text, secret
    assert crypto.mask_id(ids[0]) in text  # the masked form is what is kept
