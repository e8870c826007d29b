"""Audit of sign-ins. Authentication events come only as Django signals, so this is the
one place the audit log listens to signals rather than being called by a service."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.audit import log_action


def _ip(request):
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR")


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    log_action(actor=user, action="auth.login", ip_address=_ip(request))


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        log_action(actor=user, action="auth.logout", ip_address=_ip(request))


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    log_action(actor=username or None, action="auth.login_failed", data={"username": username}, ip_address=_ip(request))
