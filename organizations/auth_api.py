"""The API's sign-in: username and password (and the second factor) for a token."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.api import error_response as _error
from core.api import error_responses
from core.login_names import login_name


class TokenThrottle(AnonRateThrottle):
    scope = "token"


class ObtainTokenView(APIView):
    """POST username and password, get {"token": …}; send it as `Authorization: Token …`."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [TokenThrottle]

    @extend_schema_serializer(component_name="TokenObtain")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(label=_("用户名"))
        password = serializers.CharField(label=_("密码"), style={"input_type": "password"}, trim_whitespace=False)
        otp_token = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=12,
            label=gettext_lazy("两步验证码"),
            help_text=gettext_lazy("已启用两步验证的账号必填：验证器应用中当前显示的 6 位数字。"),
        )

        def validate_username(self, value):
            # One spelling before the lock-out and authenticate() (core.login_names).
            return login_name(value)

    @extend_schema(
        summary=gettext_lazy("用户名和密码换取 API 令牌"),
        request=InputSerializer,
        responses={
            200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
            **error_responses(400, 429),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        from django.contrib.auth import authenticate

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if getattr(request, "axes_locked_out", False):
            # Too many failures for this username from this address: the same lock as the login page.
            from .lockout import locked_out

            return locked_out(request._request)
        if user is None or not user.is_active:
            return _error("invalid_credentials", _("用户名或密码错误。"), status_code=status.HTTP_400_BAD_REQUEST)
        from organizations.otp import totp_check_for_token

        # A TOTP user's token stands for both factors (see organizations.otp.user_is_verified).
        second = totp_check_for_token(user=user, token=data.validated_data.get("otp_token"), request=request)
        if not second.ok:
            resp = _error("otp_required", second.message, {"otp_token": [second.message]})
            if second.wait_seconds:
                resp["Retry-After"] = str(second.wait_seconds)
            return resp
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
