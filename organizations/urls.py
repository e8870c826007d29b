"""Pages of the organisations app: sign-in, homes, tree, registry, stations, officers."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.selfservice_home, name="selfservice-home"),
    path("focus/", views.org_focus, name="org-focus"),
    path("orgs/", views.org_tree, name="org-tree"),
    path("orgs/options/", views.org_options, name="org-options"),
    path("orgs/<int:pk>/", views.org_detail, name="org-detail"),
    path("orgs/<int:pk>/children/", views.org_children, name="org-children"),
    path("orgs/<int:pk>/edit/", views.org_edit, name="org-edit"),
    path("orgs/<int:pk>/add-child/", views.org_create_child, name="org-create-child"),
    path("orgs/<int:pk>/move/", views.org_move, name="org-move"),
    path("orgs/<int:pk>/dissolve/", views.org_dissolve, name="org-dissolve"),
    path("orgs/<int:pk>/merge/", views.org_merge, name="org-merge"),
    path("orgs/<int:pk>/officers/new/", views.officer_create, name="officer-create"),
    path("orgs/<int:pk>/stations/new/", views.station_create, name="station-create"),
    path("officers/<int:pk>/edit/", views.officer_edit, name="officer-edit"),
    path("enterprises/", views.enterprise_list, name="enterprise-list"),
    path("enterprises/options/", views.enterprise_options, name="enterprise-options"),
    path("enterprises/new/", views.enterprise_create, name="enterprise-create"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise-detail"),
    path("enterprises/<int:pk>/edit/", views.enterprise_edit, name="enterprise-edit"),
    path("stations/", views.station_list, name="station-list"),
    path("stations/<int:pk>/", views.station_detail, name="station-detail"),
    path("stations/<int:pk>/edit/", views.station_edit, name="station-edit"),
]
