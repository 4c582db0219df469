"""Back office for the catalogue (R18): offerings, their prices, and tax rates."""

from django.contrib import admin

from .models import Offering, Price, TaxRate


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [PriceInline]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["offering", "term", "currency", "list_price", "renewal_price", "active"]
    list_filter = ["term", "currency", "active"]
    list_select_related = ["offering"]
    search_fields = ["offering__code", "offering__name"]
    autocomplete_fields = ["offering"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["country", "rate", "label"]
    search_fields = ["country", "label"]
