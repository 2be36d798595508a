"""Reports as tables, with bar charts for AR aging and revenue by month: the API's query serializers, the
same report service (the user's locations only, one audit entry each) and the same roles per report."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from backend.audit import client_ip
from backend.reports import decimal_text
from billing.api.reports import AsOfQuery
from billing.reports import AGING_BUCKETS, Report
from billing.services.reports import report_run
from console.access import actor, allowed, console_page, refused
from console.charts import BarChart, bar_chart
from console.params import form_data, validated
from scheduling import selectors
from scheduling.api.ranges import LocationDateRange

BUCKET_LABELS = dict(zip(AGING_BUCKETS, ("Current", "1-30 days", "31-60 days", "61-90 days", "Over 90 days"),
                         strict=True))  # fmt: skip


@dataclass(frozen=True)
class ReportPage:
    name: str  # billing.services.reports.BUILDERS' key
    title: str
    rule: str  # console.access.RULES' key: the API view's permission
    query: type[serializers.Serializer]
    columns: tuple[tuple[str, str], ...]  # (row key, heading)
    total_columns: tuple[tuple[str, str], ...]


REPORTS = {
    page.name: page
    for page in (
        ReportPage("ar_aging", "AR aging", "accounting", AsOfQuery,
                   (("invoice_number", "Invoice"), ("patient_name", "Patient"), ("issue_date", "Issued"),
                    ("days", "Days"), ("bucket", "Bucket"), ("balance", "Balance"), ("currency", "Currency"),
                    ("location", "Location")),
                   (("location", "Location"), ("currency", "Currency"),
                    *((bucket, BUCKET_LABELS[bucket]) for bucket in AGING_BUCKETS), ("total", "Total"))),
        ReportPage("revenue", "Revenue", "accounting", LocationDateRange,
                   (("month", "Month"), ("location", "Location"), ("code", "Code"), ("currency", "Currency"),
                    ("billed", "Billed"), ("credited", "Credited"), ("net", "Net"), ("gross", "Gross")),
                   (("currency", "Currency"), ("billed", "Billed"), ("credited", "Credited"), ("net", "Net"),
                    ("gross", "Gross"))),
        ReportPage("daily_close", "Daily close", "billing", LocationDateRange,
                   (("date", "Day"), ("location", "Location"), ("currency", "Currency"), ("payments", "Payments"),
                    ("received", "Received"), ("refunded", "Refunded"), ("net_taken", "Net taken"),
                    ("deposits", "Deposits"), ("applied_to_invoices", "Applied to invoices")),
                   (("currency", "Currency"), ("received", "Received"), ("refunded", "Refunded"),
                    ("net_taken", "Net taken"), ("deposits", "Deposits"))),
        ReportPage("package_liability", "Package liability", "accounting", AsOfQuery,
                   (("patient_name", "Patient"), ("package", "Package"), ("sold_on", "Sold"),
                    ("sessions", "Sessions"), ("used", "Used"), ("remaining", "Remaining"),
                    ("liability", "Liability"), ("currency", "Currency"), ("location", "Location")),
                   (("location", "Location"), ("currency", "Currency"), ("sessions_remaining", "Sessions left"),
                    ("liability", "Liability"))),
    )
}  # fmt: skip


def _cell(value: Any, currency: str | None) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value, currency)
    if isinstance(value, date):
        return value.isoformat()
    return BUCKET_LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def _table(rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> list[list[str]]:
    return [[_cell(row.get(key, ""), row.get("currency")) for key, _ in columns] for row in rows]


def _charts(report: Report) -> list[BarChart]:
    """AR aging: what is owed per age bucket; revenue: net billed per month. One chart per currency."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    if report.name == "ar_aging":
        for total in report.totals:
            for bucket in AGING_BUCKETS:
                sums[total["currency"]][bucket] += total[bucket]
        return [bar_chart(f"Owed by age ({currency})", [(BUCKET_LABELS[b], by[b]) for b in AGING_BUCKETS])
                for currency, by in sums.items()]  # fmt: skip
    if report.name == "revenue":
        for row in report.rows:
            sums[row["currency"]][row["month"]] += row["net"]
        months = _months(report.parameters["from"], report.parameters["to"])
        return [bar_chart(f"Net revenue by month ({currency})", [(month, by[month]) for month in months])
                for currency, by in sums.items()]  # fmt: skip
    return []


def _months(first: date, last: date) -> list[str]:
    """Every month of the range as the report names them ("2026-10"), a month without revenue included."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _defaults(page: ReportPage) -> dict[str, str]:
    today = timezone.localdate()
    if page.query is AsOfQuery:
        return {"as_of": today.isoformat()}
    if page.name == "revenue":  # the last twelve months, for the chart
        first = date(today.year - 1, today.month, 1) if today.month < 12 else date(today.year, 1, 1)
        return {"from": first.isoformat(), "to": today.isoformat()}
    return {"from": today.isoformat(), "to": today.isoformat()}


def _csv_query(given: QueryDict) -> str:
    query = given.copy()
    query["format"] = "csv"
    return query.urlencode()


@console_page("billing")
def reports(request: HttpRequest) -> HttpResponse:
    """The first report this user may read (reception: the daily close)."""
    first = next(name for name, page in REPORTS.items() if allowed(request.user, page.rule))
    return redirect("console:report", name=first)


@console_page("billing")
def report(request: HttpRequest, name: str) -> HttpResponse:
    page = REPORTS.get(name)
    if page is None:
        raise Http404("No such report.")
    if not allowed(request.user, page.rule):
        return refused(request)
    given = QueryDict(mutable=True)
    given.update(_defaults(page))
    for key, values in form_data(request.GET).lists():
        given.setlist(key, values)
    params = validated(page.query(data=given, context={"request": request}))
    result = report_run(actor=actor(request), name=page.name, params=params, ip=client_ip(request))
    context = {
        "title": page.title, "section": "billing", "tab": "reports", "page": page,
        "reports": [item for item in REPORTS.values() if allowed(request.user, item.rule)],
        "given": given, "locations": selectors.locations_for(request.user).order_by("name"),
        "headings": [heading for _, heading in page.columns], "rows": _table(result.rows, page.columns),
        "total_headings": [heading for _, heading in page.total_columns],
        "totals": _table(result.totals, page.total_columns), "charts": _charts(result),
        "csv": f"{reverse('report-' + page.name.replace('_', '-'))}?{_csv_query(given)}",
    }  # fmt: skip
    return TemplateResponse(request, "console/report.html", context)
