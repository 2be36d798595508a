from django.urls import path

from outcomes.api import (
    InstrumentListView,
    PatientMeasuresView,
    PatientOutcomesView,
    SafetyAlertAcknowledgeView,
    SafetyAlertListView,
)

urlpatterns = [
    path("instruments/", InstrumentListView.as_view(), name="instrument-list"),
    path("patients/<uuid:id>/measures/", PatientMeasuresView.as_view(), name="patient-measures"),
    path("patients/<uuid:id>/outcomes/", PatientOutcomesView.as_view(), name="patient-outcomes"),
    path("safety-alerts/", SafetyAlertListView.as_view(), name="safety-alert-list"),
    path("safety-alerts/<uuid:id>/acknowledge/", SafetyAlertAcknowledgeView.as_view(), name="safety-alert-acknowledge"),
]
