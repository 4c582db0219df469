"""Portal page: API tokens — create (shown once), name, list and revoke (interfaces.md §2)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renewals.api import tokens as token_actions
from renewals.api.models import ApiToken
from renewals.core.errors import DomainError
from renewals.portal.refusals import refusal_text

NEW_TOKEN_SESSION_KEY = "api_token_just_created"


@login_required
def tokens_page(request):
    """List the user's tokens; show a token created a moment ago, once."""
    return render(
        request,
        "portal/tokens.html",
        {
            "nav": "tokens",
            "tokens": ApiToken.objects.filter(user=request.user),
            "new_token": request.session.pop(NEW_TOKEN_SESSION_KEY, None),
        },
    )


@login_required
@require_POST
def create_token(request):
    """Create a named token; its text is shown on the next page only, never stored."""
    try:
        token, raw = token_actions.create_token(
            user=request.user, name=request.POST.get("name", "")
        )
    except DomainError as exc:
        messages.error(request, refusal_text(exc))
        return redirect("portal:tokens")
    request.session[NEW_TOKEN_SESSION_KEY] = {"name": token.name, "token": raw}
    return redirect("portal:tokens")


@login_required
@require_POST
def revoke_token(request, token_id: int):
    """Revoke one of the user's tokens; another user's token id is a 404."""
    try:
        token_actions.revoke_token(user=request.user, token_id=token_id)
    except DomainError:
        raise Http404("no such token") from None
    messages.success(request, _("The token was revoked; it no longer works."))
    return redirect("portal:tokens")


urls = [
    path("account/tokens/", tokens_page, name="tokens"),
    path("account/tokens/new/", create_token, name="create_token"),
    path("account/tokens/<int:token_id>/revoke/", revoke_token, name="revoke_token"),
]
