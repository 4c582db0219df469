"""factory_boy factories for the domain models."""

from datetime import date
from decimal import Decimal

import factory

from renewals.accounts.models import Card, Customer, Membership, Partner, User
from renewals.catalog.models import Offering, Price, TaxRate
from renewals.subscriptions import periods
from renewals.subscriptions.models import Subscription, Term


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    language = "en"
    password = factory.django.Password("correct horse battery")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ["csn"]

    csn = factory.Sequence(lambda n: f"{5100000000 + n}")
    name = factory.Faker("company")
    country = "FR"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)
    role = "admin"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    code = factory.Sequence(lambda n: f"P-{n}")
    name = "CAD Partners SARL"
    email = "renew@cadpartners.example"
    phone = "+33 1 23 45 67 89"


class CardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Card
        django_get_or_create = ["user", "gateway", "token"]

    user = factory.SubFactory(UserFactory)
    gateway = "sandbox"
    token = "pm_sandbox_4242424242424242"
    last4 = "4242"


class OfferingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offering
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"PRD{n}")
    name = factory.LazyAttribute(lambda o: f"Product {o.code}")


class PriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Price
        django_get_or_create = ["offering", "term", "currency"]

    offering = factory.SubFactory(OfferingFactory)
    term = "annual"
    currency = "EUR"
    list_price = Decimal("2100.00")
    renewal_price = Decimal("1890.00")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate
        django_get_or_create = ["country"]

    country = "FR"
    rate = Decimal("0.20")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A subscription whose renewal date is reachable from its start (R1); one current term."""

    class Meta:
        model = Subscription

    id = factory.Sequence(lambda n: f"SUB-{100000 + n}")
    customer = factory.SubFactory(CustomerFactory)
    offering = factory.SubFactory(OfferingFactory)
    term = "annual"
    seats = 3
    currency = "EUR"
    renewal_date = date(2027, 3, 31)
    start_date = factory.LazyAttribute(
        lambda o: periods.previous_renewal_date(o.renewal_date, o.term, o.renewal_date.day)
    )
    lapse_date = factory.SelfAttribute("renewal_date")
    auto_renew = False
    purchase_method = "online"
    payment_method = "card"
    purchaser = factory.SubFactory(UserFactory)
    card = factory.LazyAttribute(
        lambda o: CardFactory(user=o.purchaser) if o.payment_method == "card" else None
    )
    partner = None
    trial = False

    @factory.post_generation
    def with_term(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            Term.objects.get_or_create(
                subscription=obj,
                start=periods.current_term_start(obj.start_date, obj.renewal_date, obj.term),
                defaults={"end": obj.renewal_date},
            )

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        pass  # with_term saved what it needed; don't save the instance again


def priced_subscription(*, list_price="2100.00", renewal_price="1890.00", **kwargs) -> Subscription:
    """Create a subscription and the catalogue price that makes it sellable."""
    sub = SubscriptionFactory(**kwargs)
    PriceFactory(
        offering=sub.offering,
        term=sub.term,
        currency=sub.currency,
        list_price=Decimal(list_price),
        renewal_price=Decimal(renewal_price),
    )
    return sub
