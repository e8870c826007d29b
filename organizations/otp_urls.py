"""URLs of the second factor, mounted under accounts/otp/."""

from django.urls import path

from . import otp_views

urlpatterns = [
    path("", otp_views.otp_setup, name="otp-setup"),
    path("start/", otp_views.otp_start, name="otp-start"),
    path("confirm/", otp_views.otp_confirm, name="otp-confirm"),
    path("disable/", otp_views.otp_disable, name="otp-disable"),
    path("verify/", otp_views.otp_verify, name="otp-verify"),
]
