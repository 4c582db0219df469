"""Back office for carts and orders (R18): read-only, since orders move only through actions."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from renewals.core.money import format_money, money
from renewals.core.read_only import ReadOnlyAdmin, ReadOnlyInline

from .models import CartLine, CartLineChange, Order, OrderLine, OrderLineChange, OrderNumberSequence


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    extra = 0
    fields = [
        "subscription",
        "seats",
        "unit_price",
        "price_kind",
        "amount",
        "term_start",
        "term_end",
        "term_display",
        "previous_display",
        "holds_term",
    ]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("term"))
    def term_display(self, obj):
        return obj.term

    @admin.display(description=_("before the renewal"))
    def previous_display(self, obj):
        """R21: the subscription's seats and term before a line that changes them."""
        if not obj.changed:
            return "—"
        seats, term = obj.previous
        return f"{seats} × {term}"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "csn",
        "status",
        "payment_method",
        "purchase_method",
        "total_display",
        "automatic",
        "business_date",
        "created",
        "placed_by",
    ]
    list_filter = ["status", "payment_method", "purchase_method", "currency", "automatic"]
    list_select_related = ["customer", "placed_by"]
    search_fields = ["number", "customer__csn", "customer__name", "placed_by__email"]
    date_hierarchy = "created"
    inlines = [OrderLineInline]

    @admin.display(description=_("CSN"), ordering="customer__csn")
    def csn(self, obj):
        return obj.customer.csn

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, obj):
        return format_money(money(obj.total, obj.currency))


@admin.register(OrderLine)
class OrderLineAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "subscription",
        "seats",
        "unit_price",
        "price_kind",
        "amount",
        "term_start",
        "term_end",
        "holds_term",
    ]
    list_filter = ["price_kind", "holds_term"]
    list_select_related = ["order"]
    search_fields = ["order__number", "subscription__id"]


@admin.register(OrderLineChange)
class OrderLineChangeAdmin(ReadOnlyAdmin):
    list_display = ["line", "previous_seats", "previous_term"]
    list_select_related = ["line__order"]
    search_fields = ["line__order__number", "line__subscription__id"]


@admin.register(CartLineChange)
class CartLineChangeAdmin(ReadOnlyAdmin):
    list_display = ["line_id", "user", "seats", "term"]
    list_select_related = ["user"]
    search_fields = ["user__email"]


@admin.register(CartLine)
class CartLineAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "subscription",
        "seats",
        "unit_price",
        "currency",
        "price_kind",
        "term_start",
        "added",
    ]
    list_filter = ["currency", "price_kind"]
    list_select_related = ["user"]
    search_fields = ["user__email", "subscription__id"]


@admin.register(OrderNumberSequence)
class OrderNumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "last"]
