"""API tokens: create (shown once), authenticate, revoke. Only a SHA-256 of a token is stored."""

import hashlib
import secrets
from datetime import timedelta

from django.utils.translation import gettext as _

from renewals.core import audit, clock
from renewals.core.errors import DomainError, NotFound

from .models import ApiToken

TOKEN_PREFIX = "rnw_"
# Writing last_used on every request would turn each read into a write; a minute is precise
# enough to tell a person which tokens are still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    """Return the stored form of a token: the hex SHA-256 of its text."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(*, user, name: str = "", staff: bool = False) -> tuple[ApiToken, str]:
    """Create a named token for `user`; return it with its text, which is never stored.

    A staff token (`staff=True`, only for a staff user) reads every customer's events (R22).
    """
    name = (name or "").strip() or _("API token")
    if staff and not user.is_staff:
        raise DomainError("not_staff")
    if len(name) > 100:
        raise DomainError("invalid", variant="token_name", max=100)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(TOKEN_PREFIX) + 4],
        key_hash=hash_token(raw),
        staff=staff,
    )
    audit.record(token, action="api_token.created", actor=user, name=name, staff=staff)
    return token, raw


def revoke_token(*, user, token_id) -> bool:
    """Revoke one of `user`'s tokens; return whether it was active. Others' ids are not found."""
    try:
        token = ApiToken.objects.get(user=user, pk=int(token_id))
    except (ApiToken.DoesNotExist, TypeError, ValueError):
        raise NotFound("token") from None
    if token.revoked:
        return False
    token.revoked = clock.now()
    token.save(update_fields=["revoked"])
    audit.record(token, action="api_token.revoked", actor=user, name=token.name)
    return True


def authenticate(raw: str) -> ApiToken | None:
    """Return the active token with this text (its user loaded), or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = clock.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token
