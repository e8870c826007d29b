"""URLs of the report files and the operations view (included by unionportal.urls)."""

from django.urls import path

from . import ops_views, run_views

urlpatterns = [
    path("reports/files/", run_views.report_runs, name="report-runs"),
    path("reports/files/<int:pk>/", run_views.report_run_detail, name="report-run-detail"),
    path("reports/files/<int:pk>/rerun/", run_views.report_run_rerun, name="report-run-rerun"),
    path("reports/files/<int:pk>/report.xlsx", run_views.report_run_xlsx, name="report-run-xlsx"),
    path("reports/files/<int:pk>/report.pdf", run_views.report_run_pdf, name="report-run-pdf"),
    path("operations/", ops_views.operations_home, name="operations"),
    path("operations/runs/<int:pk>/retry/", ops_views.operations_task_retry, name="operations-task-retry"),
    path("operations/outbox/resend/", ops_views.operations_outbox_resend, name="operations-outbox-resend"),
]
