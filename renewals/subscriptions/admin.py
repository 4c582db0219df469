"""Back office for subscriptions (R18), with the audit trail of who changed what.

Dates that renewals move (renewal date, lapse date) are read-only here: a renewal goes through
`actions.renew_subscriptions`, never through a form. A subscription is added through
`actions.create_subscription` and changed through `actions.change_settings`: R11 holds for staff
too (no auto-renew on a trial, partner or konbini subscription), the purchaser gets the
auto-renew confirmation email, and every change is an audit event with the changed fields,
before and after, shown on the change page.

`actions` (and the outbox, auto-renew and email code it brings) is imported where the form and
the admin use it, not at the top: a page of the back office that does not use it does not
load it (#15).
"""

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from renewals.core import clock
from renewals.core.models import AuditEvent

from . import periods, rules
from .models import STAGE_CHOICES, Subscription, Term

AUDIT_TRAIL_LIMIT = 100
# Why R11 refuses auto-renew, for staff (the portal words the same codes for customers).
AUTO_RENEW_REFUSALS = {
    rules.TRIAL: _("A trial cannot renew automatically."),
    rules.PARTNER_MANAGED: _(
        "A partner subscription is renewed by its partner, not automatically."
    ),
    rules.CANCELLED_REASON: _("A cancelled subscription cannot renew automatically."),
    rules.PAYMENT_METHOD_NOT_RECURRING: _(
        "Automatic renewal needs a saved card as the payment method."
    ),
}


class StageFilter(admin.SimpleListFilter):
    """Filter by the stage of R2 on today's business date, in SQL."""

    title = _("stage")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return STAGE_CHOICES

    def queryset(self, request, queryset):
        if self.value() in rules.STAGES:
            return queryset.in_stage(self.value(), clock.today())
        return queryset


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = [
            "id",
            "customer",
            "offering",
            "term",
            "seats",
            "currency",
            "start_date",
            "renewal_date",
            "auto_renew",
            "purchase_method",
            "payment_method",
            "card",
            "purchaser",
            "partner",
            "trial",
        ]

    def clean(self):
        data = super().clean()
        start, renewal, term = (data.get(k) for k in ("start_date", "renewal_date", "term"))
        if self.instance._state.adding and start and renewal and term:
            if periods.terms_between(start, renewal, term) is None:
                # R1: D is a whole number of anchored terms after the start date.
                self.add_error(
                    "renewal_date",
                    _("The renewal date must be a whole number of terms after the start date."),
                )
        if data.get("purchase_method") == "partner" and not data.get("partner"):
            self.add_error("partner", _("A partner subscription needs its partner."))
        if data.get("card") and data.get("payment_method") != "card":
            self.add_error("card", _("A card can only pay a subscription paid by card."))
        return data

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        before = (
            None if self.instance._state.adding else Subscription.objects.get(pk=self.instance.pk)
        )
        from . import actions

        # R11 holds for staff too: the action refuses the same, this says it next to the field.
        for code in actions.settings_refusal(before, self.instance, today=clock.today()):
            self.add_error("auto_renew", AUTO_RENEW_REFUSALS.get(code, code))


class TermInline(admin.TabularInline):
    model = Term
    extra = 0
    fields = ["start", "end", "order_number", "source", "created"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = [
        "id",
        "csn",
        "offering",
        "term",
        "seats",
        "currency",
        "renewal_date",
        "stage",
        "auto_renew",
        "purchase_method",
        "payment_method",
        "purchaser",
        "trial",
    ]
    list_select_related = ["customer", "offering", "purchaser"]
    list_filter = [
        StageFilter,
        "term",
        "currency",
        "purchase_method",
        "payment_method",
        "auto_renew",
        "trial",
    ]
    search_fields = ["id", "customer__csn", "customer__name", "purchaser__email", "offering__code"]
    autocomplete_fields = ["customer", "offering", "purchaser", "partner"]
    raw_id_fields = ["card"]
    date_hierarchy = "renewal_date"
    inlines = [TermInline]
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        fixed = ["stage", "lapse_date", "updated", "audit_trail"]
        if obj is None:
            return fixed
        # R4: once it exists, D moves only through a renewal (actions.renew_subscriptions).
        return ["id", "renewal_date", "start_date", "term", *fixed]

    @admin.display(description=_("CSN"), ordering="customer__csn")
    def csn(self, obj):
        return obj.customer.csn

    @admin.display(description=_("stage"))
    def stage(self, obj):
        if obj is None or obj._state.adding:
            return "-"
        return obj.stage_on(clock.today())

    @admin.display(description=_("audit trail"))
    def audit_trail(self, obj):
        if obj is None or obj._state.adding:
            return "-"
        events = AuditEvent.objects.filter(
            object_type=Subscription._meta.label_lower, object_id=obj.pk
        ).order_by("-at", "-id")[:AUDIT_TRAIL_LIMIT]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            ((f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor_label, e.action, e.data) for e in events),
        )
        if not rows:
            return _("No changes recorded yet.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("when"),
            _("who"),
            _("what"),
            _("details"),
            rows,
        )

    def save_model(self, request, obj, form, change):
        from . import actions

        today = clock.today()
        if not change:
            actions.create_subscription(obj, today=today, actor=request.user)
            return
        values = {
            name: getattr(obj, name) for name in form.changed_data if name in actions.SETTING_FIELDS
        }
        actions.change_settings(obj.pk, values, today=today, actor=request.user)


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["subscription", "start", "end", "order_number", "source", "created"]
    list_filter = ["source"]
    search_fields = ["subscription__id", "order_number"]
    # The term history is written by renewals and imports only (R4).
    readonly_fields = ["subscription", "start", "end", "order_number", "source", "created"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
