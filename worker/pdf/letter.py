"""Letters to the referring provider: a referral acknowledgement and a treatment summary with a small line
chart of each instrument's scores."""

from __future__ import annotations

from datetime import date
from typing import Any

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Spacer

from worker.pdf.fonts import SANS, register
from worker.pdf.layout import BODY, HEADING, SMALL, build, clinic_header, facts, grid, text

ATTESTATION = "This letter was prepared from the clinic's records on the date shown."


def _address_block(data: dict[str, Any]) -> list[Flowable]:
    provider = data["provider"]
    name = provider["name"] + (f", {provider['credentials']}" if provider["credentials"] else "")
    lines = [name, provider["practice"], provider["address"]]
    return [text("\n".join(line for line in lines if line), BODY), Spacer(1, 10), text(data["date"], SMALL),
            Spacer(1, 10)]  # fmt: skip


def _patient_line(data: dict[str, Any]) -> Flowable:
    patient = data["patient"]
    return facts([("Patient", patient["name"]), ("Date of birth", patient["date_of_birth"])])


def _chart(score: dict[str, Any]) -> Drawing:
    """The instrument's totals over time: days from the first point across, the total up."""
    register()
    points = [(date.fromisoformat(day), total) for day, total in score["points"]]
    start = points[0][0]
    series = [((day - start).days, total) for day, total in points]
    drawing = Drawing(6.5 * inch, 1.4 * inch)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 20, 6.5 * inch - 60, 1.4 * inch - 40
    plot.data = [series]
    plot.lines[0].strokeColor = colors.HexColor("#1F4E79")
    plot.lines[0].strokeWidth = 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3)
    plot.xValueAxis.valueMin = 0
    plot.xValueAxis.valueMax = max(1, series[-1][0])
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.valueMax = score["maximum"] or max(total for _day, total in series) or 1
    plot.xValueAxis.labelTextFormat = "%d"
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 7
    plot.xValueAxis.labels.fontName = plot.yValueAxis.labels.fontName = SANS
    drawing.add(plot)
    drawing.add(String(40, 2, f"days from {start.isoformat()}", fontSize=7, fontName=SANS,
                       fillColor=colors.HexColor("#444444")))  # fmt: skip
    drawing.add(String(40, 1.4 * inch - 12, score["name"], fontSize=8, fontName=SANS))
    return drawing


def render_acknowledgement(data: dict[str, Any]) -> bytes:
    series = data["series"]
    story: list[Flowable] = clinic_header(data["clinic"], "Thank you for your referral", None)
    story += _address_block(data)
    story.append(_patient_line(data))
    story.append(Spacer(1, 8))
    story.append(text(
        f"Dear {data['provider']['name']},\n\nthank you for referring {data['patient']['name']}. We have booked a "
        f"series of {series['count']} visits ({series['service']}) starting on {series['first_date']}. We will "
        "send you a summary of the treatment and its measured outcomes when the series ends."
    ))  # fmt: skip
    story.append(text("Planned visits", HEADING))
    rows = [[visit["date"], visit["time"], visit["what"], visit["status"]] for visit in data["visits"]]
    story.append(grid(["Date", "Time", "Visit", "Status"], rows, [1.2, 0.8, 3.5, 1.5]))
    story += [Spacer(1, 14), text(f"Kind regards,\n{data['signed_by']}\n{data['clinic']['name']}"), Spacer(1, 10),
              text(ATTESTATION, SMALL)]  # fmt: skip
    return build(story, title=f"Referral acknowledgement {data['patient']['name']}")


def render_summary(data: dict[str, Any]) -> bytes:
    attendance = data["attendance"]
    story: list[Flowable] = clinic_header(data["clinic"], "Treatment summary", None)
    story += _address_block(data)
    story.append(_patient_line(data))
    story.append(Spacer(1, 8))
    story.append(text(
        f"Dear {data['provider']['name']},\n\nthis is a summary of the treatment series of "
        f"{data['patient']['name']}, whom you referred. {attendance['completed']} of {attendance['planned']} "
        f"visits were completed ({attendance['no_show']} missed, {attendance['cancelled']} cancelled), with "
        f"{attendance['sessions']} integration session(s)."
    ))  # fmt: skip
    story.append(text("Visits", HEADING))
    rows = [[visit["date"], visit["time"], visit["what"], visit["status"]] for visit in data["visits"]]
    story.append(grid(["Date", "Time", "Visit", "Status"], rows, [1.2, 0.8, 3.5, 1.5]))
    story.append(text("Scores before and after", HEADING))
    if data["scores"]:
        table = [
            [score["name"], f"{score['before']} ({score['before_severity']}), {score['before_date']}",
             f"{score['after']} ({score['after_severity']}), {score['after_date']}" if score["after"] is not None
             else "-", "-" if score["change"] is None else f"{score['change']:+d}",
             {True: "yes", False: "no", None: "-"}[score["response"]],
             {True: "yes", False: "no", None: "-"}[score["remission"]]]
            for score in data["scores"]
        ]  # fmt: skip
        story.append(grid(["Instrument", "Before", "Latest", "Change", "Response", "Remission"], table,
                          [1.7, 1.6, 1.6, 0.6, 0.7, 0.8]))  # fmt: skip
        for score in data["scores"]:
            if len(score["points"]) > 1:
                story += [Spacer(1, 6), _chart(score)]
    else:
        story.append(text("No outcome measures were recorded."))
    story.append(text("Maintenance plan", HEADING))
    story.append(text(data["plan"]))
    story += [Spacer(1, 14), text(f"Kind regards,\n{data['signed_by']}\n{data['clinic']['name']}"), Spacer(1, 10),
              text(ATTESTATION, SMALL)]  # fmt: skip
    return build(story, title=f"Treatment summary {data['patient']['name']}")
