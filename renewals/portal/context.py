"""Template context shared by every portal page."""

from django.utils.functional import SimpleLazyObject


def portal(request):
    """Expose the number of lines in the signed-in user's cart (one query, only if shown)."""
    user = getattr(request, "user", None)

    def count():
        if not (user and user.is_authenticated):
            return 0
        from renewals.checkout.models import CartLine

        return CartLine.objects.filter(user=user).count()

    return {"cart_count": SimpleLazyObject(count)}
