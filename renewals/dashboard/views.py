"""The renewals dashboard for staff (R23): charts and tables, each linking to its list."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from renewals.core import clock
from renewals.core.money import format_money

from . import queries
from .charts import Bar, bar_chart


def _list(model: str, **params) -> str:
    return reverse(f"admin:{model}_changelist") + "?" + urlencode(params)


def reason_labels() -> dict[str, str]:
    return {
        "declined": _("Card declined"),
        "no_action": _("No action"),
        "partner": _("Partner-managed"),
        "invoice_overdue": _("Invoice overdue"),
    }


def dashboard(request):
    """Show what is due, what renewed and lapsed this month, auto-renew, pending money."""
    today = clock.today()
    language = getattr(request, "LANGUAGE_CODE", "en")
    due = queries.due_by_currency(today)
    due_rows = []
    due_bars = []
    for i, item in enumerate(due):
        cells = []
        for days in queries.HORIZONS:
            href = _list(
                "subscriptions_subscription",
                currency=item.currency,
                renewal_date__gt=today.isoformat(),
                renewal_date__lte=(today + timedelta(days=days)).isoformat(),
                trial__exact="0",
            )
            value = format_money(item.values[days], language)
            cells.append({"count": item.counts[days], "value": value, "href": href})
            due_bars.append(
                Bar(
                    _("%(currency)s within %(days)s days")
                    % {"currency": item.currency, "days": days},
                    item.counts[days],
                    f"{item.counts[days]} · {value}",
                    href,
                    colour=i,
                )
            )
        due_rows.append({"currency": item.currency, "cells": cells, "unpriced": item.unpriced})

    month = queries.month_start(today)
    renewed = queries.renewed_this_month(today)
    lapsed = queries.lapsed_this_month(today)
    labels = reason_labels()
    month_bars = [
        Bar(
            _("Renewed"),
            renewed,
            str(renewed),
            _list(
                "subscriptions_term",
                start__gte=month.isoformat(),
                start__lte=today.isoformat(),
                source__in=",".join(queries.RENEWAL_SOURCES),
            ),
            colour=2,
        )
    ] + [
        Bar(
            _("Lapsed: %(reason)s") % {"reason": labels[reason]},
            lapsed[reason],
            str(lapsed[reason]),
            reverse("dashboard:lapsed", args=[reason]),
            colour=1,
        )
        for reason in queries.LAPSE_REASONS
    ]
    auto = queries.auto_renew_share(today)
    auto_bars = [
        Bar(
            _("Auto-renew on"),
            float(auto["share"] or 0),
            f"{auto['share'] or 0} % ({auto['auto']} / {auto['active']})",
            _list(
                "subscriptions_subscription",
                stage="active",
                auto_renew__exact="1",
                trial__exact="0",
            ),
            colour=0,
        ),
        Bar(
            _("Automatic charges failed"),
            float(auto["failure_rate"] or 0),
            f"{auto['failure_rate'] or 0} % ({auto['charges_failed']} / {auto['charges']})",
            _list(
                "checkout_order",
                automatic__exact="1",
                status__exact="failed",
                created__gte=month.isoformat(),
            ),
            colour=1,
        ),
    ]
    pending = [
        {
            **row,
            "text": format_money(row["amount"], language),
            "href": _list(
                "payments_payment",
                status__in=",".join(queries.PENDING_PAYMENT_STATUSES),
                currency=row["currency"],
            ),
        }
        for row in queries.pending_payments()
    ]
    overdue = [
        {
            **row,
            "text": format_money(row["amount"], language),
            "href": _list(
                "billing_invoice",
                overdue_since__isnull="False",
                status__exact="unpaid",
                currency=row["currency"],
            ),
        }
        for row in queries.overdue_invoices()
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Renewals dashboard"),
        "today": today,
        "month": month,
        "horizons": queries.HORIZONS,
        "due_rows": due_rows,
        "due_chart": bar_chart(due_bars, title=_("Subscriptions due, by currency and horizon")),
        "renewed": renewed,
        "lapsed": [
            (labels[r], lapsed[r], reverse("dashboard:lapsed", args=[r]))
            for r in queries.LAPSE_REASONS
        ],
        "month_chart": bar_chart(month_bars, title=_("Renewed and lapsed this month")),
        "auto": auto,
        "auto_chart": bar_chart(auto_bars, title=_("Auto-renew share and failures")),
        "pending": pending,
        "overdue": overdue,
    }
    return TemplateResponse(request, "dashboard/dashboard.html", context)


def lapsed(request, reason: str):
    """List the subscriptions that lapsed this month for one reason (the list behind a bar)."""
    labels = reason_labels()
    if reason not in labels:
        raise Http404
    today = clock.today()
    qs = (
        queries.lapsed_this_month_queryset(today)
        .filter(reason=reason)
        .select_related("customer", "offering", "purchaser")
        .order_by("lapse_date", "pk")
    )
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    context = {
        **admin.site.each_context(request),
        "title": _("Lapsed this month: %(reason)s") % {"reason": labels[reason]},
        "page": page,
        "today": today,
        "rows": [(s, s.stage_on(today)) for s in page.object_list],
    }
    return TemplateResponse(request, "dashboard/lapsed.html", context)
