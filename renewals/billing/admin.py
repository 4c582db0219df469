"""Back office for invoices (R18): read-only, with the action "mark paid" (restores access).

`actions` (and the order, checkout and subscription code behind it) is imported by the two admin
actions, not at the top: a page of the back office that does not run them does not load it (#15).
"""

from django.contrib import admin
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from renewals.core import clock
from renewals.core.formatting import list_text
from renewals.core.read_only import ReadOnlyAdmin

from .models import CreditNote, Invoice


class RefundDue(admin.SimpleListFilter):
    """Invoices paid for subscriptions already cancelled: money for staff to refund (R19)."""

    title = _("refund due")
    parameter_name = "refund_due"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(refund_due__gt=0)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
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
        "refund_due",
    ]
    list_filter = ["status", RefundDue, "year"]
    search_fields = ["number", "order__number", "customer__csn", "customer__name"]
    list_select_related = ["customer", "order"]
    actions = ["mark_paid", "refund"]
    readonly_fields = [f.name for f in Invoice._meta.fields]

    @admin.action(description=_("Mark paid (the subscriptions leave the expiry process)"))
    def mark_paid(self, request, queryset):
        from . import actions

        today = clock.today()
        done = sum(actions.invoice_paid(inv, actor=request.user, today=today) for inv in queryset)
        self.message_user(
            request,
            ngettext("%(count)d invoice marked paid.", "%(count)d invoices marked paid.", done)
            % {"count": done},
        )

    @admin.action(description=_("Refund the amount due and issue its credit note"))
    def refund(self, request, queryset):
        from . import actions

        today = clock.today()
        note = _("Refund of money received for cancelled subscriptions (R19).")
        issued = [
            credit
            for invoice in queryset.filter(refund_due__gt=0)
            if (
                credit := actions.refund_invoice(
                    invoice, actor=request.user, today=today, note=str(note)
                )
            )
        ]
        self.message_user(
            request,
            ngettext(
                "%(count)d credit note issued: %(numbers)s",
                "%(count)d credit notes issued: %(numbers)s",
                len(issued),
            )
            % {
                "count": len(issued),
                "numbers": list_text([c.number for c in issued], translation.get_language() or "en")
                or "—",
            },
        )


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "total", "currency", "issued_on"]
    search_fields = ["number", "invoice__number", "invoice__order__number"]
    list_select_related = ["invoice"]
    readonly_fields = [f.name for f in CreditNote._meta.fields]
