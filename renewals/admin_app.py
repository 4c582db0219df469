"""The Django admin (the back office), its ModelAdmins registered when first needed (#15).

Django's own `AdminConfig` imports every installed app's `admin` module when any process starts
(autodiscovery: about 30 modules, 10-12 ms of CPU), though only two things use them: the admin's
pages and the admin's system check. Not `renewals show`, `import`, `daily`, the worker or the
scheduler. This is Django's `SimpleAdminConfig`, with the autodiscovery done by those two: the
URLconf (renewals/urls.py, before `admin.site.urls` reads the registry) and the check below
(`renewals check`, `renewals serve` before it serves, Django's test runner; under pytest,
the session fixture of tests/conftest.py imports the URLconf). Autodiscovery is
idempotent: a module already imported is not imported, nor registered, twice.
"""

from django.contrib.admin.apps import SimpleAdminConfig


class AdminConfig(SimpleAdminConfig):
    def ready(self):
        from django.contrib.admin.checks import check_dependencies
        from django.core import checks

        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_registered_admins, checks.Tags.admin)


def check_registered_admins(app_configs, **kwargs):
    """Django's check of every registered ModelAdmin, once they are registered."""
    from django.contrib.admin import autodiscover
    from django.contrib.admin.checks import check_admin_app

    autodiscover()
    return check_admin_app(app_configs, **kwargs)
