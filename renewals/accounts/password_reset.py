"""Password reset by email (R17): the same work for every address, throttled (issue #14).

A probe timed the reset page (36 ms for an address with an account, 16 ms without) and sent
41 emails to one person with 40 requests. Now every request, whatever the address:

- counts against a limit per address and per client address (`core.ratelimit`, shared by every
  process): `PASSWORD_RESET_PER_ADDRESS` (3) and `PASSWORD_RESET_PER_IP` (20) an hour; past
  either, `Throttled` — for a known and an unknown address alike, so it reveals nothing;
- makes a reset token and renders the email (for an unknown address, for a stand-in account);
- queues a real email only for an active account with a usable password, in the account's
  language, through the outbox (sent after the response, never inside the request).
"""

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from renewals.core import ratelimit
from renewals.notifications import outbox
from renewals.notifications.models import Email

from .models import User
from .signin import account_for, normalise_username

WINDOW_SECONDS = 3600


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many reset requests; retry in {retry_after} s")
        self.retry_after = retry_after


def per_address() -> int:
    return int(getattr(settings, "PASSWORD_RESET_PER_ADDRESS", 3))


def per_ip() -> int:
    return int(getattr(settings, "PASSWORD_RESET_PER_IP", 20))


def request_reset(raw_email: str, *, ip: str, language: str) -> None:
    """Email a reset link to the account of `raw_email`, if any; raise Throttled past a limit.

    `language` is the page's, used only for the stand-in of an unknown address.
    """
    address = normalise_username(raw_email)
    digest = hashlib.sha256(address.encode()).hexdigest()
    by_ip = ratelimit.hit(f"reset-ip:{ip}", limit=per_ip(), window=WINDOW_SECONDS)
    by_address = ratelimit.hit(
        f"reset-address:{digest}", limit=per_address(), window=WINDOW_SECONDS
    )
    if not (by_ip.allowed and by_address.allowed):
        raise Throttled(max(h.retry_after for h in (by_ip, by_address) if not h.allowed))
    user = account_for(address)
    if user is not None and not (user.is_active and user.has_usable_password()):
        user = None
    target = user or _stand_in(address, language)
    spec = {
        "kind": "password-reset",
        "to": target.email,
        "language": target.language,
        "context": {"name": target.name or target.email, "link": reset_link(target)},
        "dedupe_key": f"password-reset:{target.pk or 0}:{uuid.uuid4().hex}",
    }
    if user is None:
        # The same rendering as queue_email and one statement on the outbox's table (its
        # is an INSERT), and nothing sent.
        outbox.render_email(spec["kind"], spec["language"], spec["context"])
        Email.objects.filter(dedupe_key=spec["dedupe_key"]).exists()
        return
    outbox.queue_email(**spec)


def reset_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk or 0))
    token = default_token_generator.make_token(user)
    path = reverse("portal:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return f"{settings.PORTAL_BASE_URL}{path}"


def _stand_in(address: str, language: str) -> User:
    user = User(email=address or "nobody@invalid", language=language)
    user.set_unusable_password()
    return user
