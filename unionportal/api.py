"""API wiring shared by every app: permission, pagination, the one error shape, token auth."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from organizations.errors import DomainError


def _error(code: str, message, fields=None, status_code=400) -> Response:
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


def exception_handler(exc, context):
    """Every API error as {"error": {"code", "message", "fields"?}}, never a bare 500 for input."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
            first = next(iter(fields.values()))[0] if fields else _("输入有误。")
            return _error("invalid", first, fields)
        return _error("invalid", "；".join(exc.messages))
    if isinstance(exc, DomainError):
        fields = {exc.field: [str(exc.message)]} if exc.field else None
        return _error(exc.code, exc.message, fields, status_code=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("对象不存在，或不在您的管辖范围内。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        if isinstance(detail, dict):
            first = next(iter(detail.values()), [_("输入有误。")])
            message = first[0] if isinstance(first, list) and first else _("输入有误。")
            return _error("invalid", message, detail, status_code=response.status_code)
        return _error("invalid", "；".join(detail), status_code=response.status_code)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = "error"
    resp = _error(code, detail if isinstance(detail, str) else _flatten(detail)[0], status_code=response.status_code)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            resp[header] = response[header]
    return resp


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class ObtainTokenView(APIView):
    """POST username and password, get {"token": …}; send it as `Authorization: Token …`."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [TokenThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(label=_("用户名"))
        password = serializers.CharField(label=_("密码"), style={"input_type": "password"}, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request):
        from django.contrib.auth import authenticate

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None or not user.is_active:
            return _error("invalid_credentials", _("用户名或密码错误。"), status_code=status.HTTP_400_BAD_REQUEST)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
