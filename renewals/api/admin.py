"""Back office for API tokens: create one (staff tokens too, R22) shown once, revoke."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from renewals.core import clock

from .models import ApiToken
from .tokens import create_token


class TokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "staff"]

    def clean(self):
        data = super().clean()
        if data.get("staff") and data.get("user") and not data["user"].is_staff:
            raise ValidationError({"staff": _("Only a staff user can have a staff token.")})
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "staff", "created", "last_used", "revoked"]
    list_filter = ["staff"]
    search_fields = ["user__email", "name", "prefix"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", "name", "prefix", "staff", "created", "last_used", "revoked"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "staff"]
        return self.get_readonly_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        token, raw = create_token(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            staff=form.cleaned_data["staff"],
        )
        obj.pk = token.pk
        messages.warning(request, _("The token (shown only this once): %(token)s") % {"token": raw})

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        queryset.filter(revoked__isnull=True).update(revoked=clock.now())
        messages.success(request, _("Revoked."))
