"""Query plans of the hot paths as PostgreSQL would make them on three years of a 20-location group.

A test captures the statements a hot path runs on its small test data, then asks PostgreSQL for each one's
plan with the L size's row counts set on the tables (``pg_class.reltuples``, the planner's own statistics;
column statistics are cleared so that its defaults apply), inside a transaction that is rolled back.

A scan of a large table is *bounded* when its index condition picks a few rows whatever the table's age:

- equality on a column that tells rows apart (a patient, an invoice, an id), not on one that every row of a
  location shares (``location_id``, ``status``, ``group_id`` ...);
- a time range closed on both sides (``start >= a AND start < b``) or a range overlap (``&&``, GiST);
- any condition on a partial index (its predicate keeps only the open rows: due reminders, running exports).

Anything else reads history whole: a sequential scan, an index scan with no condition, "every visit this
location ever had" or "every visit before Friday". A scan that feeds a ``LIMIT`` directly, in index order,
is bounded by the limit when it shows every row it reads (the newest 50 invoices) or skips only rows newer
than a closed time range (last month's invoices, newest first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

# The L size (docs/performance.md): 20 locations, 100k patients, 2M visits over three years, 1M invoices,
# 10M audit rows, 1M past reminders; the other tables in proportion. Tables that grow with history are large;
# set-up tables (locations, chairs, staff, service types, opening hours) stay small at any age.
L_ROWS = {
    "scheduling_patient": 100_000, "auth_user": 100_000, "scheduling_clearance": 100_000,
    "scheduling_appointment": 2_000_000, "scheduling_appointmentstaff": 2_000_000,
    "scheduling_series": 300_000, "scheduling_serieschange": 400_000, "scheduling_reminder": 1_000_000,
    "scheduling_freedslot": 100_000, "scheduling_waitlistentry": 50_000, "scheduling_waitlistoffer": 150_000,
    "billing_invoice": 1_000_000, "billing_invoiceline": 3_000_000, "billing_payment": 1_000_000,
    "billing_paymentallocation": 1_000_000, "billing_refund": 20_000, "billing_creditnote": 50_000,
    "billing_creditnoteline": 60_000, "billing_document": 2_000_000, "billing_packagesale": 20_000,
    "billing_packagesession": 100_000, "backend_auditevent": 10_000_000, "outcomes_measure": 500_000,
    "scheduling_location": 20, "scheduling_resource": 400, "scheduling_staffmember": 200,
    "scheduling_servicetype": 20, "scheduling_openingrule": 200, "scheduling_shift": 2_000,
}  # fmt: skip
LARGE_TABLES = frozenset(table for table, rows in L_ROWS.items() if rows >= 20_000)
# Columns whose values a large share of a table's rows have in common.
SHARED_COLUMNS = frozenset({
    "location_id", "group_id", "status", "kind", "channel", "currency", "service_type_id", "resource_id",
    "is_blocking", "is_deposit", "method",
})  # fmt: skip
COMPARISON = re.compile(r"(\w+)\)?(?:::[\w ]+)?\s*(=|<>|<=|>=|<|>|&&|@>|<@)\s")
LOWER, UPPER, RANGE = frozenset({">", ">="}), frozenset({"<", "<="}), frozenset({"&&", "@>", "<@"})
PLANNED = ("SELECT", "UPDATE", "DELETE", "WITH")  # statements with a plan worth reading (not INSERT VALUES)
PASS_THROUGH = {"Limit", "LockRows", "Result", "Nested Loop", "Unique", "Subquery Scan", "Incremental Sort",
                "Merge Append"}  # fmt: skip


def statements_of(run: Callable[[], Any]) -> list[str]:
    """The statements ``run`` sends that read rows, as sent (parameters bound)."""
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries if query["sql"].lstrip().upper().startswith(PLANNED)]


def plan_of(sql: str) -> dict[str, Any]:
    """The statement's plan with the L size's statistics (rolled back afterwards)."""
    with transaction.atomic(), connection.cursor() as cursor:
        tables = list(L_ROWS)
        cursor.execute(
            # relpages as the table has now: the planner scales reltuples by the pages it finds on disk.
            "UPDATE pg_class c SET reltuples = l.rows,"
            " relpages = greatest(1, pg_relation_size(c.oid) / current_setting('block_size')::int)"
            " FROM unnest(%s::text[], %s::float4[]) AS l(name, rows) WHERE c.oid = to_regclass(l.name)",
            [tables, [float(rows) for rows in L_ROWS.values()]],
        )
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = ANY(SELECT to_regclass(unnest(%s::text[])))",
                       [tables])  # fmt: skip
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        raw = cursor.fetchone()[0]
        transaction.set_rollback(True)  # the statistics were for this plan only
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def partial_indexes() -> frozenset[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL")
        return frozenset(name for (name,) in cursor.fetchall())


def _nodes(node: dict[str, Any], parents: tuple[str, ...] = ()) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    yield node, parents
    for child in node.get("Plans", []):
        yield from _nodes(child, (*parents, node["Node Type"]))


def _fed_to_a_limit(parents: tuple[str, ...]) -> bool:
    for kind in reversed(parents):
        if kind == "Limit":
            return True
        if kind not in PASS_THROUGH:
            return False
    return False


def _bounds(condition: str) -> dict[str, set[str]]:
    """The operators each column is compared with in a plan's condition."""
    bounds: dict[str, set[str]] = {}
    for column, operator in COMPARISON.findall(condition):
        bounds.setdefault(column, set()).add(operator)
    return bounds


def is_bounded(condition: str) -> bool:
    """Whether an index condition picks rows independently of how much history the table holds."""
    for column, operators in _bounds(condition).items():
        if operators & RANGE or (operators & LOWER and operators & UPPER):
            return True
        if "=" in operators and column not in SHARED_COLUMNS:
            return True
    return False


def _closed_ranges_only(condition: str) -> bool:
    bounds = _bounds(condition)
    return bool(bounds) and all(ops <= LOWER | UPPER and ops & LOWER and ops & UPPER for ops in bounds.values())


def _index_names(node: dict[str, Any]) -> set[str]:
    return {n["Index Name"] for n, _ in _nodes(node) if "Index Name" in n}


def _reads_history(node: dict[str, Any], parents: tuple[str, ...], partial: frozenset[str]) -> bool:
    """Whether this scan of a large table reads rows in proportion to the table's history."""
    if node["Node Type"] == "Seq Scan":
        return True
    if node["Node Type"] not in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"):
        return False
    if _index_names(node) & partial or is_bounded(node.get("Index Cond") or node.get("Recheck Cond") or ""):
        return False
    # A page of rows in index order: every row read is shown, or only rows newer than a recent period are
    # skipped (a filter that is a closed time range, such as the invoices of last month, newest first).
    return not (_fed_to_a_limit(parents) and ("Filter" not in node or _closed_ranges_only(node["Filter"])))


def full_scans(sql: str) -> list[str]:
    """How the statement reads a large table whole, one line per scan (empty when every scan is bounded)."""
    partial = partial_indexes()
    return [
        f"{node['Node Type']} on {node['Relation Name']} ({', '.join(sorted(_index_names(node))) or 'no index'}): "
        f"{node.get('Index Cond') or node.get('Recheck Cond') or 'every row'}"
        for node, parents in _nodes(plan_of(sql))
        if node.get("Relation Name") in LARGE_TABLES and _reads_history(node, parents, partial)
    ]


def scans_in(run: Callable[[], Any]) -> dict[str, list[str]]:
    """Each statement of ``run`` that reads a large table whole, with how."""
    return {sql: scans for sql in statements_of(run) if (scans := full_scans(sql))}
