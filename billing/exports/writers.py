"""Export writers: CSV through PostgreSQL's ``COPY``, XLSX through openpyxl's write-only mode.

Each writer takes a psycopg cursor, the export's query and a binary file, and
reports the rows written so far to ``on_progress`` (called often; the caller
decides how often to record it). They return the number of data rows written.

CSV: UTF-8, optional byte order mark (Excel), a header row, ISO dates, money
as plain decimals, quoted per RFC 4180 by PostgreSQL itself. XLSX: typed
cells (numbers, dates, money with two decimals), a frozen header, a new sheet
every 1,048,575 rows (Excel's limit), and text without the control characters
a spreadsheet refuses (the API refuses them too, but older rows may hold some).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any, BinaryIO

import psycopg
from django.db import connection
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from billing.exports.queries import DATE, DECIMAL, INTEGER, MONEY, ExportQuery
from billing.models import ExportFormat

ProgressCallback = Callable[[int], None]
BOM = b"\xef\xbb\xbf"
CHUNK_ROWS = 2000
EXCEL_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows per sheet, one of them the header
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.QUICKBOOKS: "text/csv; charset=utf-8",
    ExportFormat.XERO: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def request_cursor() -> psycopg.Cursor[Any]:
    """A psycopg cursor on Django's own connection (``COPY`` and single-row streaming need psycopg's API)."""
    connection.ensure_connection()
    cursor: psycopg.Cursor[Any] = connection.connection.cursor()
    return cursor


def count_rows(cursor: psycopg.Cursor[Any], query: ExportQuery) -> int:
    cursor.execute(query.count_sql, query.params)
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def csv_header(query: ExportQuery, *, bom: bool) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(query.headers)
    return (BOM if bom else b"") + text.getvalue().encode()


def csv_chunks(cursor: psycopg.Cursor[Any], query: ExportQuery, *, bom: bool) -> Any:
    """Yield the CSV file in pieces: the header, then the rows in chunks straight from ``COPY``.

    Yields ``(bytes, rows_so_far)``.
    """
    yield csv_header(query, bom=bom), 0
    rows = 0
    chunk: list[Any] = []
    with cursor.copy(f"COPY ({query.sql}) TO STDOUT WITH (FORMAT csv)", query.params) as copy:
        for row in copy:
            chunk.append(row)
            if len(chunk) == CHUNK_ROWS:
                rows += CHUNK_ROWS
                yield b"".join(chunk), rows
                chunk.clear()
    rows += len(chunk)
    yield b"".join(chunk), rows


def write_csv(out: BinaryIO, cursor: psycopg.Cursor[Any], query: ExportQuery, *, bom: bool,
              on_progress: ProgressCallback) -> int:  # fmt: skip
    rows = 0
    for data, rows in csv_chunks(cursor, query, bom=bom):
        out.write(data)
        on_progress(rows)
    return rows


def _new_sheet(workbook: Workbook, query: ExportQuery, number: int) -> WriteOnlyWorksheet:
    sheet = workbook.create_sheet("Export" if number == 1 else f"Export {number}")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in query.headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def write_xlsx(out: BinaryIO, cursor: psycopg.Cursor[Any], query: ExportQuery,
               on_progress: ProgressCallback) -> int:  # fmt: skip
    workbook = Workbook(write_only=True)
    sheets = 1
    sheet = _new_sheet(workbook, query, sheets)
    types = [column.type for column in query.columns]
    rows = in_sheet = 0
    for record in cursor.stream(query.sql, query.params):
        if in_sheet == EXCEL_MAX_DATA_ROWS:
            sheets += 1
            sheet, in_sheet = _new_sheet(workbook, query, sheets), 0
        cells: list[Any] = []
        for value, column_type in zip(record, types, strict=True):
            if isinstance(value, str):
                cells.append(ILLEGAL_CHARACTERS_RE.sub("", value))
            elif value is None or (number_format := _number_format(column_type, value)) is None:
                cells.append(value)
            else:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
                cells.append(cell)
        sheet.append(cells)
        rows += 1
        in_sheet += 1
        if rows % CHUNK_ROWS == 0:
            on_progress(rows)
    workbook.save(out)
    on_progress(rows)
    return rows


NUMBER_FORMATS = {DATE: "yyyy-mm-dd", DECIMAL: "0.###", INTEGER: "0"}


def _number_format(column_type: str, value: Any) -> str | None:
    """A typed cell's format. Money comes rounded to its currency (see ``queries.Column``): as many decimals
    as the amount has."""
    if column_type != MONEY:
        return NUMBER_FORMATS.get(column_type)
    decimals = -int(Decimal(value).as_tuple().exponent)
    return "#,##0." + "0" * decimals if decimals > 0 else "#,##0"


def write_export(out: BinaryIO, cursor: psycopg.Cursor[Any], query: ExportQuery, *, format: str, bom: bool,
                 on_progress: ProgressCallback) -> int:  # fmt: skip
    """Write the export in ``format`` to ``out``; returns the data rows written."""
    if format == ExportFormat.XLSX:
        return write_xlsx(out, cursor, query, on_progress)
    return write_csv(out, cursor, query, bom=bom, on_progress=on_progress)
