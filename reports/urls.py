from django.urls import path

from . import dashboard_views

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="stats-dashboard"),
    path("dashboard/<int:pk>/", dashboard_views.dashboard, name="stats-dashboard-org"),
]
