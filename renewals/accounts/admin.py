"""Back office for people and customers (R18): users sign in with their email address."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm as BaseCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseChangeForm
from django.utils.translation import gettext_lazy as _

from .models import Card, Customer, Membership, Partner, User


class UserCreationForm(BaseCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "language")


class UserChangeForm(BaseChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "customer"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["email", "name", "language", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    readonly_fields = ["date_joined", "last_login"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["name", "language"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "name",
                    "language",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["csn", "name", "country", "vat_id", "vat_id_validated"]
    list_filter = ["country", "vat_id_validated"]
    search_fields = ["csn", "name", "vat_id"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "customer", "role"]
    list_filter = ["role"]
    list_select_related = ["user", "customer"]
    search_fields = ["user__email", "customer__csn", "customer__name"]
    autocomplete_fields = ["user", "customer"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "email", "phone"]
    search_fields = ["code", "name", "email"]


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "gateway", "exp_month", "exp_year", "created", "removed"]
    list_filter = ["gateway", "brand"]
    list_select_related = ["user"]
    search_fields = ["user__email", "last4", "token"]
    autocomplete_fields = ["user"]
    # The gateway's token is what a charge uses: staff see it but never retype it.
    readonly_fields = ["gateway", "token", "created"]

    def has_add_permission(self, request):
        return False  # cards are saved by a checkout or imported, never typed in
