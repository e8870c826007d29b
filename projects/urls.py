"""Pages of service projects: staff pages at /projects/, the worker's under /me/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.library, name="project-library"),
    path("new/", views.project_new, name="project-new"),
    path("demands/", views.demand_board, name="project-demands"),
    path("demands/<int:pk>/<str:verb>/", views.demand_act, name="project-demand-act"),
    path("workspace/", views.workspace, name="project-workspace"),
    path("budget-lines/<int:pk>/spend/", views.spend, name="project-spend"),
    path("budget-lines/<int:pk>/overspend/", views.overspend_new, name="project-overspend-new"),
    path("overspends/", views.overspends, name="project-overspends"),
    path("overspends/<int:pk>/<str:verb>/", views.overspend_decide, name="project-overspend-decide"),
    path("settings/criteria/", views.criteria_edit, name="project-criteria-page"),
    path("settings/weights/", views.weights_edit, name="project-weights-page"),
    path("sessions/<int:pk>/checkin/", views.checkin, name="project-checkin"),
    path("<int:pk>/", views.project_detail, name="project-detail"),
    path("<int:pk>/do/<str:verb>/", views.project_move, name="project-move"),
    path("<int:pk>/sessions/new/", views.session_new, name="project-session-new"),
    path("<int:pk>/results/", views.project_result, name="project-result"),
    path("<int:pk>/evaluation/", views.evaluation_page, name="project-evaluation"),
    path("<int:pk>/evaluation.pdf", views.evaluation_pdf, name="project-evaluation-pdf"),
]

selfservice_urlpatterns = [
    path("me/projects/", views.my_projects, name="my-projects"),
    path("me/projects/sessions/<int:pk>/sign-up/", views.my_sign_up, name="my-sign-up"),
    path("me/projects/enrolments/<int:pk>/<str:verb>/", views.my_enrolment_act, name="my-enrolment-act"),
    path("me/demands/", views.my_demands, name="my-demands"),
    path("me/demands/<int:pk>/second/", views.my_demand_second, name="my-demand-second"),
]
