"""Pages of the aid app: `urlpatterns` at /aid/, the worker's pages at the site root."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.file_list, name="aid-files"),
    path("files/<int:pk>/", views.file_detail, name="aid-file-detail"),
    path("files/<int:pk>/investigation/", views.file_investigation, name="aid-file-investigation"),
    path("files/<int:pk>/notice/", views.file_notice, name="aid-file-notice"),
    path("files/<int:pk>/notice-close/", views.file_notice_close, name="aid-file-notice-close"),
    path("files/<int:pk>/decide/", views.file_decide, name="aid-file-decide"),
    path("files/<int:pk>/review/", views.file_review, name="aid-file-review"),
    path("files/<int:pk>/tier/", views.file_tier, name="aid-file-tier"),
    path("emergency/", views.emergency, name="aid-emergency"),
    path("funds/new/", views.fund_new, name="aid-fund-new"),
    path("budgets/new/", views.budget_new, name="aid-budget-new"),
    path("budgets/<int:pk>/allocate/", views.budget_allocate, name="aid-budget-allocate"),
    path("campaigns/new/", views.campaign_new, name="aid-campaign-new"),
    path("files/<int:pk>/documents/", views.file_document, name="aid-file-document"),
    path("files/<int:pk>/objections/", views.file_objection, name="aid-file-objection"),
    path("objections/<int:pk>/resolve/", views.objection_resolve, name="aid-objection-resolve"),
    path("grants/<int:pk>/pay/", views.grant_pay, name="aid-grant-pay"),
    path("approvals/", views.approval_queue, name="aid-approvals"),
    path("budgets/", views.budget_list, name="aid-budgets"),
    path("campaigns/", views.campaign_list, name="aid-campaigns"),
    path("campaigns/<int:pk>/start/", views.campaign_start, name="aid-campaign-start"),
    path("campaigns/<int:pk>/sheet.pdf", views.campaign_sheet, name="aid-campaign-sheet"),
]

selfservice_urlpatterns = [
    path("me/aid/", views.my_aid, name="my-aid"),
    path("me/aid/household/", views.my_aid_household, name="my-aid-household"),
    path("me/aid/documents/", views.my_aid_document, name="my-aid-document"),
]
