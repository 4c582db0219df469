"""Back office for the email log (R18): read-only; the outbox job delivers and retries."""

from django.contrib import admin

from .models import Email


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["created", "kind", "to", "language", "status", "attempts", "sent", "subject"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["to", "subject", "dedupe_key", "message_id"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
