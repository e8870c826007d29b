"""The API kit every app's DRF views use: the one error shape, permission, pagination, scoped fields.

- `exception_handler` (settings EXCEPTION_HANDLER): every error as
  {"error": {"code", "message", "fields"?}}; domain and validation errors through the one
  translation, core.errors.refusal.
- `error_responses(400, 403, ...)`: those answers documented in the OpenAPI schema;
  `document_common_errors` adds 401/415/cursor 404 to every operation.
- `IsStaffUser`, `DefaultCursorPagination`, `IdsFirstCursorPagination`, `FilterBackend`:
  the defaults named in settings REST_FRAMEWORK (defined in core.api_defaults, see there why).
- `ScopedViewSet`: the base of every viewset (input, lookup inside the reach, output, pages).
- `ScopedPrimaryKeyRelatedField`, `ChoiceLabelField`/`choice_label`: fields.
- `api_not_found`: the JSON 404 for an /api/ address that matches nothing.
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import exceptions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from .api_defaults import DefaultCursorPagination, FilterBackend, IdsFirstCursorPagination, IsStaffUser
from .errors import NOT_IN_REACH, DomainError, refusal


def error_response(code: str, message, fields=None, status_code=400) -> Response:
    """A DRF Response in the one error shape."""
    body = {"error": {"code": code, "message": str(message)}}
    if fields:
        body["error"]["fields"] = fields
    return Response(body, status=status_code)


def _flatten(detail):
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [str(x) if not isinstance(x, dict | list) else _flatten(x) for x in detail]
    return [str(detail)]


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's error tree as {field: [messages]}, nested fields named by dotted paths.

    A nested serializer or list field reports {"claims": {"1": {"description": [...]}}};
    the published error shape (ErrorBody.fields) is one level of lists, so that becomes
    {"claims.1.description": [...]}: still naming the field and the row to fix.
    """
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    key = prefix or api_settings.NON_FIELD_ERRORS_KEY
    if isinstance(detail, list):
        if all(not isinstance(x, dict | list) for x in detail):
            return {key: [str(x) for x in detail]} if detail else {}
        out = {}
        for i, item in enumerate(detail):
            out.update(_field_errors(item, f"{prefix}.{i}" if prefix else str(i)))
        return out
    return {key: [str(detail)]}


def exception_handler(exc, context):
    """Every API error as {"error": {"code", "message", "fields"?}}, never a bare 500 for input."""
    if isinstance(exc, DjangoValidationError | DomainError):
        # The one translation (core.errors.refusal); a model's non-field errors ("__all__")
        # get DRF's key, so clients see one name.
        found = refusal(exc)
        fields = {
            (api_settings.NON_FIELD_ERRORS_KEY if k == NON_FIELD_ERRORS else k): v for k, v in found.fields.items()
        }
        return error_response(found.code, found.message, fields or None, status_code=found.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(NOT_IN_REACH))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(exc.detail, dict):
            fields = _field_errors(exc.detail)
            first = next(iter(fields.values()), [_("输入有误。")])
            message = first[0] if first else _("输入有误。")
            return error_response("invalid", message, fields, status_code=response.status_code)
        return error_response("invalid", "；".join(_flatten(exc.detail)), status_code=response.status_code)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    resp = error_response(
        code, detail if isinstance(detail, str) else _flatten(detail)[0], status_code=response.status_code
    )
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            resp[header] = response[header]
    return resp


@extend_schema_serializer(component_name="ErrorBody")
class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=gettext_lazy("机器可读的错误代码，如 invalid、not_found、permission_denied。")
    )
    message = serializers.CharField(help_text=gettext_lazy("给人看的说明（中文）。"))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=gettext_lazy("按字段列出的问题及改正方法（仅输入错误时出现）。"),
    )


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """The one error body every API endpoint returns (documentation only)."""

    error = ErrorBodySerializer()


_ERROR_DESCRIPTIONS = {
    400: gettext_lazy("输入有误：fields 按字段说明原因和改法。"),
    401: gettext_lazy("未登录或令牌无效。"),
    403: gettext_lazy("未登录、不是工作人员，或您的角色没有此项权限。"),
    404: gettext_lazy("对象不存在，或不在您的管辖范围内。"),
    409: gettext_lazy("业务规则不允许此操作（如状态不对、仍有下级组织）。"),
    415: gettext_lazy("请求体的格式不受支持：请使用 application/json。"),
    429: gettext_lazy("请求过于频繁：请按 Retry-After 头所示的秒数后再试。"),
}


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for the given error statuses, all in the one error shape."""
    return {code: OpenApiResponse(ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code])) for code in codes}


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id in the input, resolved only within the requesting user's reach (`for_user`).

    An id that does not exist and one outside the reach get the same message, so the
    answer never reveals that a row exists elsewhere in the tree.
    """

    default_error_messages = {
        "required": gettext_lazy("该字段是必填项。"),
        "does_not_exist": gettext_lazy("编号 {pk_value} 不存在或不在您的管辖范围内，请重新选择。"),
        "incorrect_type": gettext_lazy("请填写对象编号（整数），收到的是 {data_type}。"),
    }

    def get_queryset(self):
        return super().get_queryset().for_user(self.context["request"].user)


@cache
def _choice_labels(choices, language: str | None) -> dict:
    return {value: str(label) for value, label in choices.choices}


def choice_label(choices, value):
    """The label of `value` in a TextChoices/IntegerChoices set, in the active language."""
    return _choice_labels(choices, get_language()).get(value, value)


def choice_labels(choices) -> dict:
    """value -> label of a choice set in the active language: for a loop over many rows
    (asking for the active language costs more than the lookup itself)."""
    return _choice_labels(choices, get_language())


class ChoiceLabelField(serializers.CharField):
    """The display label of a choice, e.g. `status_label = ChoiceLabelField(Status, source="status")`.

    Model.get_FOO_display() rebuilds its lookup on every call and translates every label
    to hash it; on a page of 50 rows that was most of a list request's time. This keeps one
    value -> label dict per choice set and language.
    """

    def __init__(self, choices, **kwargs):
        self.choice_set = choices
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return choice_label(self.choice_set, value)


_CURSOR_404 = gettext_lazy("翻页游标 cursor 无效：请使用上一页返回的 next 或 previous 链接。")


def document_common_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: the errors any operation can answer with.

    Every operation taking a body may get 415 (a Content-Type no parser accepts), every
    operation behind authentication 401 (a wrong or expired token), and every cursor-paged
    list 404 (DRF's answer to a malformed cursor). Documenting them once here keeps the
    schema honest without repeating them on each view.
    """
    error_ref = {"$ref": "#/components/schemas/Error"}
    if "Error" not in result.get("components", {}).get("schemas", {}):
        return result
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            wanted = {}
            if "requestBody" in operation:
                wanted[415] = _ERROR_DESCRIPTIONS[415]
            if any(requirement for requirement in operation.get("security", [])):
                wanted[401] = _ERROR_DESCRIPTIONS[401]
            if any(p.get("in") == "query" and p.get("name") == "cursor" for p in operation.get("parameters", [])):
                wanted[404] = _CURSOR_404
            for code, description in wanted.items():
                operation["responses"].setdefault(
                    str(code),
                    {"description": str(description), "content": {"application/json": {"schema": error_ref}}},
                )
    return result


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """404 in the one error shape for an /api/ address that matches no endpoint.

    A typo or a non-integer id must not hand API clients the HTML 404 page.
    """
    body = {
        "error": {
            "code": "not_found",
            "message": _("接口地址不存在：请检查路径（以 / 结尾）和其中的编号（整数）。"),
        }
    }
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})


# --- the base of every viewset


class ScopedViewSet(viewsets.GenericViewSet):
    """Plumbing shared by the viewsets below: input, lookup inside the reach, output, pages."""

    output_serializer: type[serializers.Serializer]
    input_serializers: dict[str, type[serializers.Serializer]] = {}

    def get_serializer_class(self):
        # What the browsable API and OPTIONS describe; the actions name their serializers.
        return self.input_serializers.get(self.action, self.output_serializer)

    def valid_input(self, serializer_class, *, instance=None, partial: bool = False) -> dict:
        serializer = serializer_class(
            instance=instance, data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def valid_query(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.query_params, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def get_in_reach(self, queryset: QuerySet, pk):
        # A malformed id is just an id that is not there: 404 in the error shape, never a 500.
        if not (str(pk).isascii() and str(pk).isdigit()):
            raise Http404
        return get_object_or_404(queryset, pk=pk)

    def output_context(self, objects: list) -> dict:
        return self.get_serializer_context()

    def output(self, instance) -> dict:
        return self.output_serializer(instance, context=self.output_context([instance])).data

    def paged(self, queryset: QuerySet) -> Response:
        page = self.paginate_queryset(queryset)
        data = self.output_serializer(page, many=True, context=self.output_context(page)).data
        return self.get_paginated_response(data)


__all__ = [
    "ChoiceLabelField",
    "DefaultCursorPagination",
    "ErrorSerializer",
    "FilterBackend",
    "IdsFirstCursorPagination",
    "IsStaffUser",
    "ScopedPrimaryKeyRelatedField",
    "ScopedViewSet",
    "api_not_found",
    "choice_label",
    "choice_labels",
    "document_common_errors",
    "error_response",
    "error_responses",
    "exception_handler",
]
