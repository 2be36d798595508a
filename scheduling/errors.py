"""Scheduling's domain errors, each with a stable code (see docs/api.md)."""

from __future__ import annotations

from backend.errors import ApplicationError


class BookingConflict(ApplicationError):
    code = "booking_conflict"
    http_status = 409
    title = "Booking conflict"


class NotCleared(ApplicationError):
    code = "not_cleared"
    http_status = 422
    title = "Patient not cleared"


class OutsideOpeningHours(ApplicationError):
    code = "outside_opening_hours"
    http_status = 422
    title = "Outside opening hours"


class StaffUnavailable(ApplicationError):
    code = "staff_unavailable"
    http_status = 422
    title = "Staff not available"


class NoResourceAvailable(ApplicationError):
    code = "no_resource_available"
    http_status = 409
    title = "No chair or room available"


class InvalidTransition(ApplicationError):
    code = "invalid_transition"
    http_status = 409
    title = "Invalid status change"


class NonexistentLocalTime(ApplicationError):
    code = "nonexistent_local_time"
    http_status = 422
    title = "Time does not exist"


class InvalidBookingRequest(ApplicationError):
    code = "invalid_booking"
    http_status = 422
    title = "Booking request not valid"


class InvalidProtocol(ApplicationError):
    code = "invalid_protocol"
    http_status = 422
    title = "Series protocol not possible"


class ProtocolViolation(ApplicationError):
    code = "protocol_violation"
    http_status = 422
    title = "Breaks the series protocol"


class NotYetPossible(ApplicationError):
    code = "not_yet_possible"
    http_status = 409
    title = "Not possible yet"


class ClearanceOverrideRefused(ApplicationError):
    """Only clinicians and admins may go ahead without a valid clearance."""

    code = "permission_denied"
    http_status = 403
    title = "Not allowed"
