"""`renewals check --deploy`: the settings a production process refuses, as system check errors.

The same list the start-up guard uses (renewals/core/deployment.py), judged as production
whatever DEBUG says: `check --deploy` asks whether these settings may be deployed.
"""

import os

from django.conf import settings
from django.core import checks

from renewals.core.deployment import facts_from_settings, problems


@checks.register(checks.Tags.security, deploy=True)
def production_settings(app_configs=None, **kwargs):
    return [
        checks.Error(f"{p.variable} {p.message}", id=p.id)
        for p in problems(facts_from_settings(settings, os.environ))
    ]
