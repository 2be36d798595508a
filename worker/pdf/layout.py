"""The shared page layout: letter size, clinic header, two-column facts and ruled tables."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from worker.pdf.fonts import SANS, SANS_BOLD, markup, needs_markup, register

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("title", parent=_styles["Title"], alignment=0, fontSize=16, spaceAfter=6, fontName=SANS_BOLD)
BODY = ParagraphStyle("body", parent=_styles["BodyText"], fontSize=9.5, leading=12, fontName=SANS)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
HEADING = ParagraphStyle("heading", parent=_styles["Heading3"], fontSize=11, spaceBefore=8, spaceAfter=4,
                         fontName=SANS_BOLD)  # fmt: skip
GRID = TableStyle([
    ("FONT", (0, 0), (-1, -1), SANS, 8.5),
    ("FONT", (0, 0), (-1, 0), SANS_BOLD, 8.5),
    ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
])  # fmt: skip
FACTS = TableStyle([
    ("FONT", (0, 0), (-1, -1), SANS, 9),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
    ("TOPPADDING", (0, 0), (-1, -1), 1),
])  # fmt: skip


def text(value: Any, style: ParagraphStyle = BODY) -> Paragraph:
    register()  # before any paragraph is parsed: it looks its fonts up
    return Paragraph(markup("" if value is None else str(value)), style)


def money(amount: str, currency: str) -> str:
    return f"{amount} {currency}"


def clinic_header(clinic: dict[str, str], title: str, number: str | None) -> list[Flowable]:
    ids = " · ".join(part for part in (
        f"Tax id {clinic['tax_id']}" if clinic.get("tax_id") else "",
        f"NPI {clinic['npi']}" if clinic.get("npi") else "",
    ) if part)  # fmt: skip
    lines = [clinic["name"], clinic.get("location", ""), clinic.get("address", ""), clinic.get("phone", ""), ids]
    left = [text(lines[0], HEADING)] + [text(line, SMALL) for line in lines[1:] if line]
    right = [text(title, TITLE)] + ([text(number, BODY)] if number else [])
    table = Table([[left, right]], colWidths=[3.2 * inch, 3.8 * inch])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), SANS, 9), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))  # fmt: skip
    return [table, Spacer(1, 0.2 * inch)]


def facts(rows: Sequence[tuple[str, Any]]) -> Table:
    table = Table([[text(label, SMALL), text(value)] for label, value in rows if value not in (None, "")],
                  colWidths=[1.6 * inch, 5.4 * inch], hAlign="LEFT")  # fmt: skip
    table.setStyle(FACTS)
    return table


def grid(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> Table:
    body = [[text(cell, SMALL) if isinstance(cell, str) and (len(cell) > 28 or needs_markup(cell)) else cell
             for cell in row] for row in rows]  # fmt: skip
    table = Table([list(header), *body], colWidths=[w * inch for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    return table


def build(story: list[Flowable], *, title: str) -> bytes:
    register()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=LETTER, invariant=1, title=title, author="Clinic", creator="clinic backend",
        initialFontName=SANS,  # no unembedded Helvetica in the font list
        leftMargin=0.75 * inch, rightMargin=0.75 * inch, topMargin=0.7 * inch, bottomMargin=0.7 * inch,
    )  # fmt: skip
    document.build(story)
    return buffer.getvalue()
