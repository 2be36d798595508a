"""Date-range parameters shared by superbills, exports and reports (billing's and the outcomes report).

"from" is a Python keyword, so these serializers are built with type().
"""

from __future__ import annotations

from rest_framework import serializers

from backend.fields import PublicIdField
from scheduling.selectors import locations_for

DateRange = type("DateRange", (serializers.Serializer,), {
    "__doc__": "An inclusive range of local dates.",
    "from": serializers.DateField(), "to": serializers.DateField(),
})  # fmt: skip

LocationDateRange = type("LocationDateRange", (DateRange,), {
    "__doc__": "An inclusive range of local dates, optionally one location.",
    "location": PublicIdField(name="location", scope=locations_for, required=False, allow_null=True),
})  # fmt: skip
