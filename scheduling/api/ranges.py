"""Date-range parameters shared by superbills, exports and reports (billing's and the outcomes report).

"from" is a Python keyword, so these serializers are built with type().
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from backend.fields import PublicIdField
from scheduling.models import Location
from scheduling.selectors import locations_for

DateRange = type("DateRange", (serializers.Serializer,), {
    "__doc__": "An inclusive range of local dates.",
    "from": serializers.DateField(), "to": serializers.DateField(),
})  # fmt: skip

LocationDateRange = type("LocationDateRange", (DateRange,), {
    "__doc__": "An inclusive range of local dates, optionally one location.",
    "location": PublicIdField(name="location", scope=locations_for, required=False, allow_null=True),
})  # fmt: skip


@dataclass(frozen=True)
class ReportRange:
    start: date
    end: date
    location: Location | None

    @property
    def parameters(self) -> dict[str, Any]:
        """The range as a report's answer repeats it."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "location": str(self.location.public_id) if self.location else None}  # fmt: skip


def report_range(request: Request) -> ReportRange:
    """A report's ``?from=&to=&location=``, validated: 400 naming the parameter, ``to`` before ``from`` too."""
    query = LocationDateRange(data=request.query_params, context={"request": request})
    query.is_valid(raise_exception=True)
    data = query.validated_data
    if data["to"] < data["from"]:
        raise serializers.ValidationError({"to": ["Must be on or after from."]})
    return ReportRange(data["from"], data["to"], data.get("location"))
