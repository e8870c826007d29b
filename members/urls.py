"""Pages of the members app. `urlpatterns` is mounted at /members/; the public join and
verification pages and the worker's self-service pages are mounted at the site root."""

from django.urls import path

from .views import imports, joincodes, password_reset, public, queue, roll, selfservice, transfers

urlpatterns = [
    path("", roll.member_list, name="member-list"),
    path("new/", roll.member_register, name="member-register"),
    path("export/", roll.member_export, name="member-export"),
    path("union-options/", roll.union_options, name="member-union-options"),
    path("<int:pk>/", roll.member_detail, name="member-detail"),
    path("<int:pk>/reveal/", roll.member_reveal, name="member-reveal"),
    path("<int:pk>/end/", roll.member_end, name="member-end"),
    path("<int:pk>/correct/", roll.member_correct, name="member-correct"),
    path("<int:pk>/honours/", roll.member_honour_add, name="member-honour-add"),
    path("<int:pk>/transfer/", transfers.member_transfer, name="member-transfer"),
    path("honours/", roll.honour_list, name="member-honours"),
    path("applications/", queue.application_list, name="member-applications"),
    path("applications/bulk/", queue.application_bulk, name="member-applications-bulk"),
    path("applications/<int:pk>/", queue.application_detail, name="member-application-detail"),
    path("applications/<int:pk>/approve/", queue.application_approve, name="member-application-approve"),
    path("applications/<int:pk>/reject/", queue.application_reject, name="member-application-reject"),
    path("applications/<int:pk>/verify/", queue.application_verify, name="member-application-verify"),
    path("transfers/", transfers.transfer_list, name="member-transfers"),
    path("transfers/new/", transfers.transfer_in, name="member-transfer-in"),
    path("transfers/destinations/", transfers.staff_destinations, name="member-destinations"),
    path("transfers/<int:pk>/accept/", transfers.transfer_accept, name="member-transfer-accept"),
    path("transfers/<int:pk>/reject/", transfers.transfer_reject, name="member-transfer-reject"),
    path("transfers/<int:pk>/cancel/", transfers.transfer_cancel, name="member-transfer-cancel"),
    path("transfers/<int:pk>/agree/", transfers.transfer_agree, name="member-transfer-agree"),
    path("transfers/<int:pk>/decline/", transfers.transfer_decline, name="member-transfer-decline"),
    path("transfers/<int:pk>/", transfers.transfer_detail, name="member-transfer-detail"),
    path("imports/", imports.import_list, name="member-imports"),
    path("imports/template/", imports.import_template, name="member-import-template"),
    path("imports/<int:pk>/", imports.import_detail, name="member-import-detail"),
    path("imports/<int:pk>/report.csv", imports.import_report, name="member-import-report"),
    path("imports/<int:pk>/errors.xlsx", imports.import_errors, name="member-import-errors"),
    path("join-codes/", joincodes.join_code_list, name="member-join-codes"),
    path("join-codes/<int:pk>/", joincodes.join_code_detail, name="member-join-code-detail"),
    path("join-codes/<int:pk>/qr.png", joincodes.join_code_png, name="member-join-code-png"),
    path("join-codes/<int:pk>/qr.svg", joincodes.join_code_svg, name="member-join-code-svg"),
    path("join-codes/<int:pk>/poster/", joincodes.join_code_poster, name="member-join-code-poster"),
    path("join-codes/<int:pk>/revoke/", joincodes.join_code_revoke, name="member-join-code-revoke"),
]

public_urlpatterns = [
    path("join/<str:code>/", public.join, name="join"),
    path("join/<str:code>/notice/", public.join_notice, name="join-notice"),
    path("join/<str:code>/done/", public.join_done, name="join-done"),
    path("verify/<str:token>/", public.card_verify, name="card-verify"),
    path("accounts/password-reset/", password_reset.password_reset, name="password-reset"),
    path("accounts/password-reset/confirm/", password_reset.password_reset_confirm, name="password-reset-confirm"),
]

selfservice_urlpatterns = [
    path("me/card/", selfservice.my_card, name="my-card"),
    path("me/card.pdf", selfservice.my_card_pdf, name="my-card-pdf"),
    path("me/membership/", selfservice.my_membership, name="my-membership"),
    path("me/transfer/", selfservice.my_transfer, name="my-transfer"),
    path("me/transfer/destinations/", selfservice.my_destinations, name="my-destinations"),
    path("me/transfer/<int:pk>/cancel/", selfservice.my_transfer_cancel, name="my-transfer-cancel"),
    path("me/transfer/<int:pk>/consent/", selfservice.my_transfer_consent, name="my-transfer-consent"),
    path("me/transfer/<int:pk>/decline/", selfservice.my_transfer_decline, name="my-transfer-decline"),
    path("me/data/", selfservice.my_data, name="my-data"),
    path("me/data/export/", selfservice.my_data_export, name="my-data-export"),
    path("me/data/copy/", selfservice.my_data_copy, name="my-data-copy"),
    path("me/data/copy.pdf", selfservice.my_data_pdf, name="my-data-pdf"),
    path("me/password/", selfservice.my_password, name="my-password"),
    path("me/claims/<int:pk>/refuse/", selfservice.my_claim_refuse, name="my-claim-refuse"),
    path("me/leave/", selfservice.my_leave, name="my-leave"),
]
