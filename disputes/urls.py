"""Pages of mediation: staff pages under /disputes/, the worker's under /me/disputes/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.my_cases, name="dispute-my-cases"),
    path("queue/", views.queue, name="dispute-queue"),
    path("overview/", views.overview, name="dispute-overview-page"),
    path("risks/", views.risks, name="dispute-risks"),
    path("<int:pk>/", views.case_detail, name="dispute-case"),
    path("<int:pk>/session/", views.session_new, name="dispute-session-new"),
    path("<int:pk>/agreement/", views.agreement_new, name="dispute-agreement-new"),
    path("<int:pk>/agreement.pdf", views.agreement_download, name="dispute-agreement-pdf"),
    path("<int:pk>/do/<str:name>/", views.case_action, name="dispute-case-action"),
    path("<int:pk>/documents/", views.document_add, name="dispute-document-add"),
    path("<int:pk>/documents/remove/", views.document_remove, name="dispute-document-remove"),
]

selfservice_urlpatterns = [
    path("me/disputes/", views.my_disputes, name="my-disputes"),
    path("me/disputes/apply/", views.my_dispute_apply, name="my-dispute-apply"),
    path("me/disputes/<int:pk>/rate/", views.my_dispute_rate, name="my-dispute-rate"),
    path("me/disputes/<int:pk>/documents/", views.my_dispute_document, name="my-dispute-document"),
]
