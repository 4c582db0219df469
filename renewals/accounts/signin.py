"""Sign-in by email: one normal form of the typed address, for the throttle and the backend.

A person types their email with any case and stray spaces; the lockout (django-axes) and the
password check must see the same account for every variant, or "Marie@…", "MARIE@…" and
" marie@…" each get their own five guesses (issue #14). `normalise_username` is that one form:
surrounding whitespace stripped, case folded. The backend accepts an account only when its
stored email has that same folded form, so every variant able to sign in to an account shares
its throttle key (PostgreSQL's case-insensitive match alone also matches e.g. a dotless "ı").
"""

from django.contrib.auth.backends import ModelBackend

from .models import User


def normalise_username(raw) -> str:
    """The throttle key and lookup form of a typed email: stripped and case-folded."""
    return str(raw or "").strip().casefold()


def throttle_username(request, credentials=None) -> str:
    """AXES_USERNAME_CALLABLE: the lockout counts failures per normalised address."""
    if credentials and credentials.get("username") is not None:
        raw = credentials["username"]
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        raw = data.get("username", "")
    return normalise_username(raw)


def account_for(raw) -> User | None:
    """The one active-or-not account whose email is `raw` once normalised, or None."""
    key = normalise_username(raw)
    if not key:
        return None
    matches = [
        user
        for user in User.objects.filter(email__iexact=str(raw).strip())
        if user.email.casefold() == key
    ]
    return matches[0] if len(matches) == 1 else None


class EmailBackend(ModelBackend):
    """ModelBackend over the normalised email (the form posts it as `username`)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = account_for(username)
        if user is None:
            # Hash anyway so an unknown address costs what a known one does (Django's defence).
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
