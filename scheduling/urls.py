from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from scheduling.api.appointments import AppointmentViewSet, AvailabilityView
from scheduling.api.patients import PatientViewSet, ReferringProviderViewSet
from scheduling.api.series import SeriesTemplateViewSet, SeriesViewSet
from scheduling.api.setup import (
    ClosureViewSet,
    LocationViewSet,
    OpeningHoursView,
    ResourceViewSet,
    ServiceTypeViewSet,
    ShiftsView,
    StaffViewSet,
)
from scheduling.api.sms import InboundSmsView
from scheduling.api.waitlist import WaitlistReportView, WaitlistViewSet

router = SimpleRouter()
router.register("locations", LocationViewSet, basename="location")
router.register(r"locations/(?P<location_id>[0-9a-fA-F-]{36})/closures", ClosureViewSet, basename="closure")
router.register("resources", ResourceViewSet, basename="resource")
router.register("staff", StaffViewSet, basename="staff")
router.register("service-types", ServiceTypeViewSet, basename="service-type")
router.register("patients", PatientViewSet, basename="patient")
router.register("referring-providers", ReferringProviderViewSet, basename="referring-provider")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("series", SeriesViewSet, basename="series")
router.register("series-templates", SeriesTemplateViewSet, basename="series-template")
router.register("waitlist", WaitlistViewSet, basename="waitlist")

urlpatterns: list[URLPattern | URLResolver] = [
    path("locations/<str:id>/opening-hours/", OpeningHoursView.as_view(), name="location-opening-hours"),
    path("staff/<str:id>/shifts/", ShiftsView.as_view(), name="staff-shifts"),
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("sms/inbound/", InboundSmsView.as_view(), name="sms-inbound"),
    path("reports/waitlist/", WaitlistReportView.as_view(), name="report-waitlist"),
    *router.urls,
]
