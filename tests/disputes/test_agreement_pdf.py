"""The agreement PDF carries the parties, claims and amounts in correct Chinese (read back with pypdf)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from disputes import services
from disputes.documents import agreement_pdf
from disputes.money import rmb_upper
from tests.disputes.conftest import applicant, receive

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.mark.parametrize(
    "amount, text",
    [
        ("12345.60", "壹万贰仟叁佰肆拾伍元陆角整"),
        ("100000", "壹拾万元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("0.50", "伍角整"),
        ("20001", "贰万零壹元整"),
        ("0", "零元整"),
    ],
)
def test_amounts_are_written_out_in_capital_numerals(amount, text):
    assert rmb_upper(Decimal(amount)) == text


def test_the_agreement_pdf_reads_back_with_parties_claims_and_amounts(bodies, mediators, district_admin, freeze_today):
    case = receive(
        district_admin,
        bodies["pudong"],
        applicants=[applicant("张晓明"), applicant("李红梅"), applicant("王建国", role="representative")],
        claims=[
            {"description": "支付 2026 年 8 月至 10 月拖欠工资", "amount": "12345.60"},
            {"description": "支付解除劳动合同经济补偿", "amount": "20000"},
            {"description": "出具解除劳动合同证明", "amount": ""},
        ],
        respondent_name="上海浦东测试科技有限公司",
    )
    services.case_accept(case=case, actor=district_admin)
    services.case_assign(case=case, actor=district_admin)
    agreement = services.agreement_make(
        case=case,
        actor=district_admin,
        terms="被申请人于 2026 年 11 月 20 日前一次性支付上述款项。",
        signed_by_applicants=True,
        signed_by_respondent=True,
        signed_by_mediator=True,
        effective_on=D(2026, 11, 9),
    )
    pdf = agreement_pdf(agreement)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    for expected in (
        "劳动争议调解协议书",
        case.number,
        "申请人：张晓明、李红梅",
        "代表人：王建国",
        "被申请人：上海浦东测试科技有限公司",
        "支付 2026 年 8 月至 10 月拖欠工资，金额人民币 12,345.60 元（大写：壹万贰仟叁佰肆拾伍元陆角整）",
        "人民币 20,000.00 元（大写：贰万元整）",
        "出具解除劳动合同证明",
        "请求金额合计：人民币 32,345.60 元（大写：叁万贰仟叁佰肆拾伍元陆角整）",
        "2026年11月09日",
        "陆家嘴街道劳动争议调解中心",
    ):
        assert expected in text, expected
