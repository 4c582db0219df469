"""Back office for payments (R18): the reconciliation list of flagged transfers and late money.

Payments change only through payments.actions: staff settle (accept as paid → the order is
fulfilled) or refund (close; an open order fails and releases its terms), always with a note,
both audited.

The actions and funds modules (the charge, order, billing and gateway code behind them) are
imported by the admin actions that use them: most back-office pages never settle a payment
(#15).
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.read_only import ReadOnlyAdmin, ReadOnlyInline

from .models import CustomerFunds, GatewayCall, Payment, SandboxPayment, WebhookEvent


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Why: the bank statement line, the customer's request, the refund reference."),
    )


class NeedsReconciliation(admin.SimpleListFilter):
    title = _("reconciliation")
    parameter_name = "reconcile"

    def lookups(self, request, model_admin):
        return [("yes", _("Needs reconciliation")), ("no", _("Nothing to reconcile"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(needs_reconciliation=True)
        if self.value() == "no":
            return queryset.filter(needs_reconciliation=False)
        return queryset


def _settled(count: int) -> str:
    return ngettext("%(count)d payment settled.", "%(count)d payments settled.", count)


def _refunded(count: int) -> str:
    return ngettext("%(count)d payment refunded.", "%(count)d payments refunded.", count)


def _with_note(modeladmin, request, queryset, *, title, done_text, apply):
    """Ask for a note on an intermediate page, then apply the action to each payment."""
    form = NoteForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for payment in queryset:
            try:
                if apply(payment.pk, actor=request.user, note=form.cleaned_data["note"]):
                    done += 1
            except DomainError as exc:
                modeladmin.message_user(
                    request, f"{payment.reference}: {exc.message}", messages.ERROR
                )
        modeladmin.message_user(request, done_text(done) % {"count": done})
        return None
    return TemplateResponse(
        request,
        "admin/payments/reconcile.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "payments": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


class GatewayCallInline(ReadOnlyInline):
    """The gateway-call ledger beside the payment (R10): every call, its outcome, redacted."""

    model = GatewayCall
    fk_name = "payment"
    extra = 0
    can_delete = False
    fields = [
        "created",
        "kind",
        "idempotency_key",
        "outcome",
        "reference",
        "error",
        "duration_ms",
        "response",
    ]
    readonly_fields = fields
    ordering = ["created", "id"]
    verbose_name = _("gateway call")
    verbose_name_plural = _("gateway calls (ledger)")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    inlines = [GatewayCallInline]
    list_display = [
        "reference",
        "order",
        "method",
        "status",
        "amount",
        "received_amount",
        "currency",
        "expires_on",
        "needs_reconciliation",
        "order_status",
        "created",
    ]
    list_filter = [NeedsReconciliation, "status", "order__status", "method", "gateway"]
    search_fields = ["reference", "order__number", "order__customer__csn"]
    list_select_related = ["order", "invoice"]
    date_hierarchy = "created"
    actions = ["settle", "refund"]
    readonly_fields = [f.name for f in Payment._meta.fields]

    @admin.display(description=_("order status"), ordering="order__status")
    def order_status(self, payment):
        # R19: "Payment received, not applied: to be refunded" is what staff refund.
        if payment.invoice_id:  # paying an invoice on net terms (R9)
            return _("invoice %(number)s") % {"number": payment.invoice.number}
        return payment.order.get_status_display()

    @admin.action(description=_("Settle: accept as paid and renew (note required)"))
    def settle(self, request, queryset):
        from . import actions

        return _with_note(
            self,
            request,
            queryset,
            title=_("Settle payments"),
            done_text=_settled,
            apply=partial(actions.settle_payment, today=clock.today()),
        )

    @admin.action(description=_("Refund: close the payment (note required)"))
    def refund(self, request, queryset):
        from . import actions

        return _with_note(
            self,
            request,
            queryset,
            title=_("Refund payments"),
            done_text=_refunded,
            apply=partial(actions.refund_payment, today=clock.today()),
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "gateway", "type", "received", "processed"]
    list_filter = ["gateway", "type"]
    search_fields = ["event_id"]


@admin.register(SandboxPayment)
class SandboxPaymentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "method", "status", "amount", "currency", "created"]
    list_filter = ["method", "status"]
    search_fields = ["reference"]


@admin.register(GatewayCall)
class GatewayCallAdmin(ReadOnlyAdmin):
    list_display = ["created", "gateway", "kind", "outcome", "idempotency_key", "payment", "error"]
    list_filter = ["gateway", "kind", "outcome"]
    search_fields = ["idempotency_key", "reference", "payment__reference", "payment__order__number"]
    list_select_related = ["payment"]


class ResolveForm(NoteForm):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("What was done with this money: the refund reference, the order it paid."),
    )


@admin.register(CustomerFunds)
class CustomerFundsAdmin(ReadOnlyAdmin):
    """Money on a customer's gateway balance, or paid in a payment's wrong currency: applied to
    an order, or waiting for staff, who resolve it with a note once they dealt with it."""

    list_display = [
        "created",
        "gateway_customer_id",
        "customer",
        "amount",
        "applied_amount",
        "currency",
        "status",
        "payment",
        "note",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = ["status", "gateway"]
    search_fields = ["gateway_customer_id", "customer__csn", "event_id"]
    list_select_related = ["customer", "payment", "resolved_by"]
    actions = ["resolve"]

    @admin.action(description=_("Resolve: the money was dealt with (note required)"))
    def resolve(self, request, queryset):
        from . import funds

        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = skipped = 0
            for row in queryset:
                try:
                    done += funds.resolve_funds(
                        row.pk, actor=request.user, note=form.cleaned_data["note"]
                    )
                except DomainError:  # being applied, or applied: the gateway's, not staff's
                    skipped += 1
            self.message_user(request, _("%(count)d customer funds resolved.") % {"count": done})
            if skipped:
                self.message_user(
                    request,
                    _("%(count)d not resolved: only funds that need staff can be resolved.")
                    % {"count": skipped},
                    messages.WARNING,
                )
            return None
        return TemplateResponse(
            request,
            "admin/payments/resolve_funds.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Resolve customer funds"),
                "rows": queryset.select_related("customer"),
                "form": form,
                "action": request.POST.get("action"),
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
