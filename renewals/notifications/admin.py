"""Back office for the email log (R18): read-only rows; staff may retry or stop a delivery."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from renewals.core.read_only import ReadOnlyAdmin

from . import outbox
from .models import Email


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "kind",
        "to",
        "language",
        "status",
        "attempts",
        "refusals",
        "sent",
        "subject",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["to", "subject", "dedupe_key", "message_id"]
    date_hierarchy = "created"
    actions = ["retry_now", "stop_delivery"]

    def has_deliver_permission(self, request):
        return request.user.has_perm("notifications.change_email")

    @admin.action(description=_("Retry now (failed or waiting emails)"), permissions=["deliver"])
    def retry_now(self, request, queryset):
        count = outbox.retry(queryset, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d email will be sent again.", "%(count)d emails will be sent again.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Stop delivery (waiting emails)"), permissions=["deliver"])
    def stop_delivery(self, request, queryset):
        count = outbox.stop(queryset, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d email will not be sent.", "%(count)d emails will not be sent.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )
