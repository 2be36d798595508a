"""The booking engine: what a location's calendar allows and how a series' protocol is planned.

- ``location_setup``: a location's hours, closures, resources, staff and shifts, kept per version;
- ``busy``: who is busy (chairs, staff, the patient) in one statement;
- ``calendar``: ``LocationCalendar``, free placements for a service at a time;
- ``protocol``: series protocols, their plan and the rules a visit must keep;
- ``locks``: the booking lock order.

The write services in ``scheduling/services/`` (appointments, series, availability) build on it.
"""
