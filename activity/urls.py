"""Audit pages (mounted at /audit/) and the inbox pages (/notifications/, /me/notifications/)."""

from django.urls import path

from . import notification_views, views

urlpatterns = [
    path("", views.audit_list, name="audit-log"),
]

notification_urlpatterns = [
    path("notifications/", notification_views.inbox, name="notifications"),
    path("notifications/preferences/", notification_views.preferences, name="notification-preferences"),
    path("notifications/read-all/", notification_views.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/open/", notification_views.notification_open, name="notification-open"),
]

selfservice_urlpatterns = [
    path("me/notifications/", notification_views.my_inbox, name="my-notifications"),
]
