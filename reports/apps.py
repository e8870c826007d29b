from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计报表")

    def ready(self) -> None:
        from organizations.services import register_path_copy

        from .models import MonthlyFigures
        from .run_wiring import wire_report_runs

        # A moved organisation's summary rows follow it (figures themselves wait for the next refresh).
        register_path_copy(MonthlyFigures, "org_path")
        wire_report_runs()
