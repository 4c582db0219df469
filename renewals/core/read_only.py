"""The admin's read-only screens: rows that change only through their domain actions."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Show rows without add, change or delete: amounts and states change through actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """An inline table of related rows that cannot be added or changed here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
