from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("公共基础")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .login_names import forget_failures_of_the_typed_name

        user_logged_in.connect(forget_failures_of_the_typed_name, dispatch_uid="core.login_names.reset")
