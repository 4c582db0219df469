"""Back office for events (R22): the events, the endpoints with their delivery log, replay.

`deliveries` and `endpoints` (HTTP, TLS and signing code) are imported where an action or a
save uses them, not at the top: a back-office page that does not use them does not load
them (#15).
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from renewals.core.read_only import ReadOnlyAdmin

from .models import Delivery, DeliveryAttempt, Endpoint, Event
from .types import EVENT_TYPES


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "type", "created", "subscription_id", "sequence"]
    list_filter = ["type"]
    search_fields = ["=id", "=subscription_id", "subjects__subscription_id"]
    fields = ["id", "type", "created", "subscription_id", "sequence", "data"]
    readonly_fields = fields
    actions = ["replay_to_endpoints"]

    @admin.action(description=_("Send the selected events again to every endpoint"))
    def replay_to_endpoints(self, request, queryset):
        from . import deliveries

        ids = sorted(queryset.values_list("pk", flat=True))
        total = 0
        for endpoint_id in Endpoint.objects.values_list("pk", flat=True):
            for event_id in ids:
                total += deliveries.replay(endpoint_id, first_event_id=event_id)
        messages.success(
            request,
            ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", total)
            % {"n": total},
        )


class EndpointForm(forms.ModelForm):
    types = forms.MultipleChoiceField(
        label=_("Event types"),
        choices=[(t, t) for t in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every type."),
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "types", "enabled"]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["id", "url", "enabled", "type_list", "waiting", "consecutive_failures", "log"]
    list_filter = ["enabled"]
    readonly_fields = ["disabled_reason", "failing_since", "consecutive_failures", "log"]
    actions = ["enable", "disable", "replay_failed"]

    @admin.display(description=_("Event types"))
    def type_list(self, obj):
        return ", ".join(obj.types) or _("all")

    @admin.display(description=_("Waiting"))
    def waiting(self, obj):
        return obj.deliveries.filter(state="pending").count()

    @admin.display(description=_("Delivery log"))
    def log(self, obj):
        if not obj.pk:
            return ""
        url = reverse("admin:events_deliveryattempt_changelist") + f"?delivery__endpoint={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Delivery log"))

    def save_model(self, request, obj, form, change):
        from . import deliveries
        from .endpoints import add_endpoint, parse_types

        if change:
            if "enabled" in form.changed_data and obj.enabled:
                super().save_model(request, obj, form, change)
                deliveries.enable(obj.pk)
                return
            obj.types = parse_types(form.cleaned_data["types"])
            super().save_model(request, obj, form, change)
            return
        endpoint, secret = add_endpoint(
            obj.url,
            types=form.cleaned_data["types"],
            description=obj.description,
            actor=request.user,
        )
        obj.pk = endpoint.pk
        obj.secret = endpoint.secret
        messages.warning(
            request,
            _("Signing secret of this endpoint (shown only this once): %(secret)s")
            % {"secret": secret},
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        original_clean = form.clean

        def clean(this):
            data = original_clean(this)
            if not obj and data.get("url"):
                from .addresses import UrlRefused, check_url

                try:
                    check_url(data["url"])
                except UrlRefused as refused:
                    raise forms.ValidationError({"url": str(refused)}) from None
            return data

        form.clean = clean
        return form

    @admin.action(description=_("Enable (send what waits, oldest first)"))
    def enable(self, request, queryset):
        from . import deliveries

        for endpoint in queryset:
            deliveries.enable(endpoint.pk)
        messages.success(request, _("Enabled."))

    @admin.action(description=_("Disable (events wait until enabled again)"))
    def disable(self, request, queryset):
        queryset.update(enabled=False, disabled_reason="staff")
        messages.success(request, _("Disabled."))

    @admin.action(description=_("Retry now what is waiting"))
    def replay_failed(self, request, queryset):
        from . import deliveries

        Delivery.objects.filter(endpoint__in=queryset, state="pending").update(next_attempt=None)
        deliveries.deliver_after_commit(list(queryset.values_list("pk", flat=True)))
        messages.success(request, _("Waiting deliveries will be retried now."))


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event", "endpoint", "state", "attempts", "next_attempt", "delivered"]
    list_filter = ["state", "endpoint"]
    search_fields = ["=event__id", "event__subscription_id"]
    actions = ["replay"]

    @admin.action(description=_("Send the selected events again"))
    def replay(self, request, queryset):
        from . import deliveries

        total = 0
        for endpoint_id, event_id in queryset.values_list("endpoint_id", "event_id"):
            total += deliveries.replay(endpoint_id, first_event_id=event_id)
        messages.success(
            request,
            ngettext("%(n)d delivery queued again.", "%(n)d deliveries queued again.", total)
            % {"n": total},
        )


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ["started", "endpoint", "event", "status_code", "duration_ms", "error", "replay"]
    list_filter = ["delivery__endpoint", "status_code", "replay"]
    list_select_related = ["delivery__endpoint", "delivery__event"]

    @admin.display(description=_("endpoint"))
    def endpoint(self, obj):
        return obj.delivery.endpoint

    @admin.display(description=_("event"))
    def event(self, obj):
        return obj.delivery.event
