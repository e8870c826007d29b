from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("公共基础")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .login_names import forget_failures_of_the_typed_name

        user_logged_in.connect(forget_failures_of_the_typed_name, dispatch_uid="core.login_names.reset")

        # core.admin is the admin kit every app builds on; core's own models are registered
        # by their kits, here (core.admin importing them would make an import cycle, as
        # the attachments admin is built on the kit and core.models holds Attachment).
        from . import outbox_admin  # noqa: F401
        from .attachments import admin as attachments_admin  # noqa: F401
