"""Page URLs of attachments (mounted at the site root by unionportal/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("files/<int:pk>/", views.attachment_download, name="attachment-download"),
]
