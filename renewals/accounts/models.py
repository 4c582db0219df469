from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

LANGUAGES = [("en", "English"), ("fr", "Français"), ("ja", "日本語")]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES, default="en")
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=["en", "fr", "ja"]), name="user_language_known"
            ),
        ]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email


class Customer(models.Model):
    """A business or person that owns subscriptions, known by its CSN (customer number)."""

    csn = models.CharField(_("CSN"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2)  # ISO 3166-1 alpha-2
    vat_id = models.CharField(_("VAT id"), max_length=40, blank=True)
    vat_id_validated = models.BooleanField(_("VAT id validated"), default=False)
    address = models.TextField(_("address"), blank=True)
    # R10: the one customer record of this CSN at the payment gateway (Stripe `cus_…`), reused
    # for its cards and its bank-transfer virtual account; written by renewals.payments only.
    gateway_customer_id = models.CharField(_("gateway customer id"), max_length=60, blank=True)
    # The JP bank-transfer account the gateway gave this customer (bank, branch, number, holder):
    # the same for every order, printed on orders and invoices.
    bank_transfer_account = models.JSONField(_("bank transfer account"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        ordering = ["csn"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway_customer_id"],
                condition=~Q(gateway_customer_id=""),
                name="one_customer_per_gateway_customer",
            ),
            models.CheckConstraint(condition=Q(csn__regex=r"^[0-9]+$"), name="customer_csn_digits"),
        ]

    def __str__(self):
        return f"{self.csn} {self.name}"


class Membership(models.Model):
    """A user's link to a customer: an admin sees every subscription of that customer."""

    ADMIN = "admin"
    ROLES = [(ADMIN, _("admin"))]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=ROLES, default=ADMIN)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "customer"], name="one_membership_per_customer"
            ),
            models.CheckConstraint(condition=Q(role__in=["admin"]), name="membership_role_known"),
        ]

    def __str__(self):
        return f"{self.user} {self.role} of {self.customer.csn}"


class Partner(models.Model):
    """A reseller; subscriptions bought through it are renewed with the partner (R5)."""

    code = models.CharField(_("id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("partner")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Card(models.Model):
    """A saved card of a user: the recurring-capable payment method (R9)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="cards")
    gateway = models.CharField(max_length=20, default="sandbox")
    token = models.CharField(max_length=200)  # pm_sandbox_<number> or a Stripe pm_…
    brand = models.CharField(max_length=20, default="visa")
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    removed = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card")
        constraints = [
            models.UniqueConstraint(fields=["user", "gateway", "token"], name="one_card_per_token"),
            models.CheckConstraint(
                condition=Q(last4__regex=r"^[0-9]{4}$"), name="card_last4_digits"
            ),
        ]

    def __str__(self):
        return f"{self.brand} •••• {self.last4}"
