import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from members.validators import (
    check_join_age,
    id_check_char,
    parse_id_number,
    parse_mobile,
    upgrade_15_to_18,
)
from organizations.validators import PROVINCE_PREFIXES

TODAY = dt.date(2026, 6, 1)


@st.composite
def valid_ids(draw):
    province = draw(st.sampled_from(sorted(PROVINCE_PREFIXES)))
    region = province + f"{draw(st.integers(0, 9999)):04d}"
    birth = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2008, 12, 31)))
    seq = draw(st.integers(0, 999))
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


@given(valid_ids())
@settings(max_examples=300)
def test_it_accepts_every_generated_valid_id(number):
    info = parse_id_number(number, today=TODAY)
    assert info.number == number
    assert info.birth_date == dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert info.sex == ("M" if int(number[16]) % 2 else "F")


@given(valid_ids(), st.integers(0, 17), st.integers(1, 9))
@settings(max_examples=500)
def test_it_rejects_any_single_character_change(number, pos, delta):
    chars = "0123456789X" if pos == 17 else "0123456789"
    old = number[pos]
    new = chars[(chars.index(old) + delta) % len(chars)]
    changed = number[:pos] + new + number[pos + 1 :]
    with pytest.raises(ValidationError):
        parse_id_number(changed, today=TODAY)


def test_it_upgrades_a_15_digit_number():
    # 15-digit 310115 900101 123 -> 310115 19900101 123 + check char
    info = parse_id_number("310115900101123", today=TODAY)
    assert info.upgraded
    assert info.number.startswith("31011519900101123")
    assert info.number[17] == id_check_char(info.number[:17])
    assert upgrade_15_to_18("310115900101123") == info.number
    assert info.sex == "M"


def test_it_normalises_lower_case_x_spaces_and_full_width_digits():
    first17 = "11010519491231002"
    number = first17 + id_check_char(first17)
    messy = " ".join(number[i : i + 6] for i in range(0, 18, 6)).lower()
    assert parse_id_number(messy, today=TODAY).number == number
    full = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_id_number(full, today=TODAY).number == number


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "请填写身份证号码"),
        ("31011519900101", "应为 18 位"),
        ("99011519900101123X", "省级"),
        ("310115199002301230", "不存在"),
        ("310115203001011230", "不合理"),
        ("310115189901011230", "不合理"),
    ],
)
def test_it_explains_what_is_wrong(value, fragment):
    with pytest.raises(ValidationError) as exc:
        parse_id_number(value, today=TODAY)
    assert fragment in exc.value.message_dict["id_number"][0]


def test_it_names_the_expected_check_character():
    first17 = "31011519900101123"
    good = id_check_char(first17)
    bad = "0" if good != "0" else "1"
    with pytest.raises(ValidationError) as exc:
        parse_id_number(first17 + bad, today=TODAY)
    assert f"最后一位应为 {good}" in exc.value.message_dict["id_number"][0]


def test_it_refuses_applicants_under_16():
    first17 = f"310115{TODAY.year - 15}0101123"
    info = parse_id_number(first17 + id_check_char(first17), today=TODAY)
    with pytest.raises(ValidationError) as exc:
        check_join_age(info, today=TODAY)
    assert "未满 16 周岁" in exc.value.message_dict["id_number"][0]
    first17 = f"310115{TODAY.year - 16}0101123"
    check_join_age(parse_id_number(first17 + id_check_char(first17), today=TODAY), today=TODAY)


@pytest.mark.parametrize("value", ["13812345678", "138 1234 5678", "+8613812345678", "199-1234-5678"])
def test_it_accepts_mobiles(value):
    assert len(parse_mobile(value)) == 11


@pytest.mark.parametrize("value", ["1381234567", "12812345678", "23812345678", "138123456789", "abc"])
def test_it_rejects_bad_mobiles(value):
    with pytest.raises(ValidationError) as exc:
        parse_mobile(value)
    assert "11 位" in exc.value.message_dict["mobile"][0]
