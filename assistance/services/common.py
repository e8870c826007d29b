"""Shared guards and money helpers of the aid services."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from core.errors import NOT_IN_REACH
from core.scoping import has_capability, path_in_reach

CENT = Decimal("0.01")
# Above this a monthly income or a grant is a typo (an extra zero), not a figure.
MAX_MONTHLY_INCOME = Decimal("1000000")
MAX_GRANT = Decimal("1000000")


def require(actor, capability: str, path: str) -> None:
    """404 outside the actor's reach, 403 inside it without the capability."""
    from django.http import Http404

    if not path_in_reach(actor, path):
        raise Http404(NOT_IN_REACH)
    if not has_capability(actor, capability, path):
        raise PermissionDenied(_("您没有办理困难帮扶此项业务的权限。"))


def money(value, *, field: str, allow_zero: bool = False, maximum: Decimal = MAX_GRANT) -> Decimal:
    """A yuan amount with two places, or a ValidationError naming `field`."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("金额格式不正确：请填写数字，例如 1200.00。")}, code="money") from None
    if not amount.is_finite():
        raise ValidationError({field: _("金额格式不正确：请填写数字，例如 1200.00。")}, code="money")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError({field: _("金额必须大于 0。")}, code="money_positive")
    if amount > maximum:
        raise ValidationError(
            {field: _("金额 %(amount)s 元明显超出合理范围，请核对是否多输了位数。") % {"amount": yuan(amount)}},
            code="money_absurd",
        )
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationError({field: _("金额最多保留两位小数（角、分）。")}, code="money_places")
    return amount.quantize(CENT)


def yuan(amount: Decimal) -> str:
    """1050 → "1,050", 1050.5 → "1,050.50": the way figures read in notices."""
    amount = Decimal(amount).quantize(CENT)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"
