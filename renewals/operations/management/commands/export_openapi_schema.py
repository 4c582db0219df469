"""`renewals export_openapi_schema`: django-ninja's own command, as when "ninja" was an app.

ninja is no installed app (its files are found through settings.NINJA_DIR, #15), so its
commands are not found by Django; this one is kept under the same name and arguments.
"""

from ninja.management.commands.export_openapi_schema import Command

__all__ = ["Command"]
