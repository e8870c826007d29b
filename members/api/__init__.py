"""REST API of the member roll: members, join codes and applications, transfers, honours,
roster imports, export, the public join form and the worker's self-service.

Thin views, as in organizations/api.py: reads start from members.selectors (so from
`for_user`), input is checked by a nested InputSerializer, every write calls a service,
answers use a nested OutputSerializer. Personal data is masked in every answer; the full
values come only from `POST members/{id}/reveal/`, which is capability-checked and audited.
"""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .imports import ImportJobViewSet
from .joining import JoinApplicationViewSet, JoinCodeViewSet, JoinView
from .own import MyMemberView, MyTransferAgreeView, MyTransferDeclineView, MyTransfersView
from .roll import MemberViewSet
from .shared import MemberDetailSerializer, MemberOutputSerializer, MembershipSerializer
from .transfers import HonourViewSet, TransferViewSet

__all__ = [
    "MemberDetailSerializer",
    "MemberOutputSerializer",
    "MemberViewSet",
    "MembershipSerializer",
    "api_urlpatterns",
]

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("member-join-codes", JoinCodeViewSet, basename="member-join-code")
router.register("member-join-applications", JoinApplicationViewSet, basename="member-join-application")
router.register("member-transfers", TransferViewSet, basename="member-transfer")
router.register("member-honours", HonourViewSet, basename="member-honour")
router.register("member-imports", ImportJobViewSet, basename="member-import")


def _urls():
    from django.urls import path

    return [
        path("join/<str:code>/", JoinView.as_view(), name="member-join"),
        path("me/member/", MyMemberView.as_view(), name="my-member"),
        path("me/transfers/", MyTransfersView.as_view(), name="my-transfers"),
        path("me/transfers/<int:pk>/consent/", MyTransferAgreeView.as_view(), name="my-transfer-consent"),
        path("me/transfers/<int:pk>/decline/", MyTransferDeclineView.as_view(), name="my-transfer-decline"),
    ]


api_urlpatterns = [*router.urls, *_urls()]
