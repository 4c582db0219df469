"""Back office for invoices (R18): read-only, with the action "mark paid" (restores access)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from renewals.core import clock

from . import actions
from .models import Invoice


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "customer",
        "order",
        "total",
        "currency",
        "issued_on",
        "due_date",
        "status",
        "overdue_since",
    ]
    list_filter = ["status", "year"]
    search_fields = ["number", "order__number", "customer__csn", "customer__name"]
    list_select_related = ["customer", "order"]
    actions = ["mark_paid"]
    readonly_fields = [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark paid (the subscriptions leave the expiry process)"))
    def mark_paid(self, request, queryset):
        today = clock.today()
        done = sum(actions.invoice_paid(inv, actor=request.user, today=today) for inv in queryset)
        self.message_user(request, _("%(count)d invoice(s) marked paid.") % {"count": done})
