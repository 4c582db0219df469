from django.contrib import admin

from renewals.core.read_only import ReadOnlyAdmin

from .models import AuditEvent, RateCounter


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "object_type", "object_id", "action"]
    list_filter = ["object_type", "action"]
    search_fields = ["object_id", "actor_label", "action"]
    date_hierarchy = "at"


@admin.register(RateCounter)
class RateCounterAdmin(admin.ModelAdmin):
    """Rate-limit counts (API tokens, password reset): read-only; staff may delete one to lift a
    limit early."""

    list_display = ["key", "window", "count"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
