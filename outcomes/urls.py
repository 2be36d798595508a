from django.urls import path

from outcomes.api import (
    InstrumentListView,
    LetterPdfView,
    OutcomesReportView,
    PatientDueMeasuresView,
    PatientLettersView,
    PatientMeasuresView,
    PatientOutcomesView,
    SafetyAlertAcknowledgeView,
    SafetyAlertListView,
    SeriesLettersView,
    SuggestionBookView,
    SuggestionDismissView,
    SuggestionListView,
)

urlpatterns = [
    path("instruments/", InstrumentListView.as_view(), name="instrument-list"),
    path("patients/<uuid:id>/measures/", PatientMeasuresView.as_view(), name="patient-measures"),
    path("patients/<uuid:id>/measures/due/", PatientDueMeasuresView.as_view(), name="patient-measures-due"),
    path("patients/<uuid:id>/outcomes/", PatientOutcomesView.as_view(), name="patient-outcomes"),
    path("patients/<uuid:id>/letters/", PatientLettersView.as_view(), name="patient-letters"),
    path("series/<uuid:id>/letters/", SeriesLettersView.as_view(), name="series-letters"),
    path("letters/<uuid:id>/pdf/", LetterPdfView.as_view(), name="letter-pdf"),
    path("reports/outcomes/", OutcomesReportView.as_view(), name="report-outcomes"),
    path("safety-alerts/", SafetyAlertListView.as_view(), name="safety-alert-list"),
    path("safety-alerts/<uuid:id>/acknowledge/", SafetyAlertAcknowledgeView.as_view(), name="safety-alert-acknowledge"),
    path("maintenance-suggestions/", SuggestionListView.as_view(), name="maintenance-suggestion-list"),
    path("maintenance-suggestions/<uuid:id>/book/", SuggestionBookView.as_view(), name="maintenance-suggestion-book"),
    path(
        "maintenance-suggestions/<uuid:id>/dismiss/",
        SuggestionDismissView.as_view(),
        name="maintenance-suggestion-dismiss",
    ),
]
