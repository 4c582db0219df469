from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "renewals.dashboard"
    label = "dashboard"
    verbose_name = _("Renewals dashboard")

    def ready(self):
        from django.contrib import admin

        # The back office's home links to the dashboard (R23).
        admin.site.index_template = "dashboard/admin_index.html"
