"""URLs of the staff dashboard, served under /admin/dashboard/ behind the admin's login."""

from django.contrib import admin
from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("lapsed/<str:reason>/", admin.site.admin_view(views.lapsed), name="lapsed"),
]
