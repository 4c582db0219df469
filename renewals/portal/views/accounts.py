"""Portal pages: sign in, sign out, password reset by email and the language switch (R17).

The reset templates have names of their own: django.contrib.admin, listed first, ships
`registration/password_reset_*.html` templates that would otherwise win.
"""

from django import forms
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from renewals.accounts import password_reset as reset
from renewals.accounts.models import LANGUAGES
from renewals.core.client_ip import client_ip

LANGUAGE_CODES = {code for code, _name in LANGUAGES}


@require_POST
def switch_language(request):
    """Remember the chosen language on the signed-in user, then set the cookie as Django does."""
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in LANGUAGE_CODES and user.language != language:
        # Emails follow user.language (R13), so the choice made here must reach them too.
        user.language = language
        user.save(update_fields=["language"])
    return set_language(request)


class ResetForm(forms.Form):
    email = forms.EmailField(max_length=254)


def password_reset(request):
    """Ask for a reset link: the same answer and work for every address, throttled (#14)."""
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reset.request_reset(
                form.cleaned_data["email"],
                ip=client_ip(request),
                language=(translation.get_language() or "en")[:2],
            )
        except reset.Throttled as throttled:
            minutes = max(1, -(-throttled.retry_after // 60))
            form.add_error(
                None,
                _("Too many password reset requests. Try again in %(minutes)s minutes.")
                % {"minutes": minutes},
            )
            response = render(request, "registration/reset_form.html", {"form": form}, status=429)
            response["Retry-After"] = str(throttled.retry_after)
            return response
        return redirect("portal:password_reset_done")
    return render(request, "registration/reset_form.html", {"form": form})


urls = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", password_reset, name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/reset_confirm.html",
            success_url=reverse_lazy("portal:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("language/", switch_language, name="language"),
]
