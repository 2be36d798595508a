"""The treatment loop's endpoints: instruments, a patient's measures and outcomes, safety alerts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.audit import audit_record, client_ip
from backend.documents import PDF_RESPONSES, document_response
from backend.fields import AwareDateTimeField, PublicIdField, ZonedDateTimeField
from backend.permissions import acting_user, user_has_role
from backend.reports import ReportCSVRenderer, ReportFormats, ReportOutput, ReportXLSXRenderer
from backend.roles import Role
from outcomes import selectors
from outcomes.due import patient_due_measures
from outcomes.letters import letter_request
from outcomes.models import (
    AlertStatus,
    Instrument,
    Letter,
    LetterKind,
    MaintenanceSuggestion,
    Measure,
    MeasureSource,
    SafetyAlert,
    SuggestionStatus,
)
from outcomes.permissions import FollowsUp, IsClinical, ReadsInstruments
from outcomes.report import outcomes_report
from outcomes.services.maintenance import suggestion_book, suggestion_dismiss
from outcomes.services.measures import measure_record
from outcomes.services.safety import crisis_guidance, safety_alert_acknowledge
from outcomes.summary import change_from_baseline, patient_outcomes
from scheduling import selectors as scheduling_selectors
from scheduling.api.ranges import LocationDateRange, report_range
from scheduling.api.series import TIME_FORMATS
from scheduling.models import Patient
from scheduling.permissions import CanBook

MAX_ANSWERS = 100


class ItemOutput(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()


class OptionOutput(serializers.Serializer):
    value = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label


class BandOutput(serializers.Serializer):
    min_total = serializers.IntegerField()
    max_total = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label


class InstrumentOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    code = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    instructions = serializers.CharField()
    items = ItemOutput(many=True)
    options = OptionOutput(many=True)
    bands = BandOutput(many=True)
    remission_below = serializers.IntegerField(allow_null=True)
    meaningful_change = serializers.IntegerField(allow_null=True)


class InstrumentListView(ListAPIView):
    """The questionnaires a clinic uses, at their current versions, with their items and scoring."""

    permission_classes = (ReadsInstruments,)
    serializer_class = InstrumentOutput
    pagination_class = None
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Instrument]:
        return selectors.instruments_for(self.request.user)


class AnswersField(serializers.ListField):
    """One value per item, in item order. Each value is checked against the instrument by
    ``outcomes.scoring``, which names the item (1-based) of a wrong one."""

    child = serializers.IntegerField()

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list):
            raise ValidationError("Expected a list of answers, one per item.")
        if len(data) > MAX_ANSWERS:
            raise ValidationError(f"At most {MAX_ANSWERS} answers.")
        return data


class MeasureInput(serializers.Serializer):
    instrument = serializers.CharField(
        max_length=64, help_text='An instrument\'s code ("phq-9": its current version) or the id of one version.'
    )
    answers = AnswersField()
    taken_at = AwareDateTimeField(required=False)
    appointment = PublicIdField(name="visit", scope=scheduling_selectors.appointments_for, required=False)

    def validate_instrument(self, value: str) -> Instrument:
        user = self.context["request"].user
        try:
            found = selectors.instrument_versions_for(user).filter(public_id=UUID(value)).first()
        except ValueError:
            found = selectors.instruments_for(user).filter(code=value).first()
        if found is None:
            raise ValidationError(f"No instrument {value!r}; GET /api/v1/instruments/ lists them.")
        return found


class MeasureOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    instrument = serializers.CharField(source="instrument.code")
    instrument_version = serializers.IntegerField(source="instrument.version")
    answers = serializers.ListField(child=serializers.IntegerField())
    total = serializers.IntegerField()
    severity = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())
    taken_at = serializers.DateTimeField()
    appointment = serializers.UUIDField(source="appointment.public_id", allow_null=True, default=None)
    source = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.source


class MeasureCreated(MeasureOutput):
    change_from_baseline = serializers.IntegerField(allow_null=True)
    crisis_guidance = serializers.CharField(
        allow_null=True, help_text="Shown to the patient at once when an answer raised a safety alert."
    )


def clinical_patient(request: Request, id: UUID) -> Patient:
    """The patient whose measures the caller may read and add, or 404 (accountants, reception, others)."""
    return get_object_or_404(selectors.clinical_patients_for(request.user), public_id=id)


class PatientMeasuresView(APIView):
    """A patient's measures (oldest first; ``?instrument=phq-9`` for one instrument), and new answers."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[OpenApiParameter("instrument", str, description="An instrument's code")],
        responses=MeasureOutput(many=True),
    )
    def get(self, request: Request, id: UUID) -> Response:
        patient = clinical_patient(request, id)
        measures = Measure.objects.filter(patient=patient).select_related("instrument", "appointment", "patient")
        if code := request.query_params.get("instrument"):
            measures = measures.filter(instrument__code=code[:64])
        return Response(MeasureOutput(measures.order_by("taken_at", "id")[:1000], many=True).data)

    @extend_schema(request=MeasureInput, responses={201: MeasureCreated})
    def post(self, request: Request, id: UUID) -> Response:
        patient = clinical_patient(request, id)
        user = acting_user(request)
        given = MeasureInput(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        patient_answering = user_has_role(user, Role.PATIENT) and getattr(user, "patient", None) == patient
        measure = measure_record(
            actor=user, patient=patient, instrument=data["instrument"], answers=data["answers"],
            taken_at=data.get("taken_at"), appointment=data.get("appointment"),
            source=MeasureSource.PATIENT if patient_answering else MeasureSource.STAFF,
        )  # fmt: skip
        alert = SafetyAlert.objects.filter(measure=measure).select_related("location").first()
        body = {
            **MeasureOutput(measure).data,
            "change_from_baseline": change_from_baseline(measure),
            "crisis_guidance": crisis_guidance(alert.location) if alert else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ScoreOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    total = serializers.IntegerField()
    severity = serializers.CharField()
    taken_at = serializers.DateTimeField()


class OutcomeOutput(serializers.Serializer):
    instrument = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()
    baseline = ScoreOutput()
    latest = ScoreOutput()
    lowest = ScoreOutput(allow_null=True, help_text="The lowest total after the baseline.")
    change_from_baseline = serializers.IntegerField(allow_null=True)
    response = serializers.BooleanField(allow_null=True, help_text="At least 50 % below the baseline.")
    remission = serializers.BooleanField(allow_null=True)


class PatientOutcomesView(APIView):
    """Per instrument: baseline, latest, lowest since, change, response and remission."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=OutcomeOutput(many=True))
    def get(self, request: Request, id: UUID) -> Response:
        patient = clinical_patient(request, id)
        measures = Measure.objects.filter(patient=patient).select_related("instrument")
        return Response(OutcomeOutput(patient_outcomes(measures), many=True).data)


class SafetyAlertOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    patient_name = serializers.SerializerMethodField()
    location = serializers.UUIDField(source="location.public_id", allow_null=True, default=None)
    measure = serializers.UUIDField(source="measure.public_id")
    instrument = serializers.CharField(source="measure.instrument.code")
    rules = serializers.ListField(child=serializers.CharField())
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    notified = serializers.ListField(child=serializers.EmailField())
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True, default=None)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()

    def get_patient_name(self, alert: SafetyAlert) -> str:
        return f"{alert.patient.first_name} {alert.patient.last_name}"


class SafetyAlertListView(ListAPIView):
    """Safety alerts of the caller's clinic groups, newest first; ``?status=open`` for those awaiting a clinician."""

    permission_classes = (IsClinical,)
    serializer_class = SafetyAlertOutput
    filter_backends = ()

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=AlertStatus.values)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[SafetyAlert]:
        alerts = selectors.safety_alerts_for(self.request.user).order_by("-created_at", "-id")
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in AlertStatus.values:
                raise ValidationError({"status": [f"One of {', '.join(AlertStatus.values)}."]})
            alerts = alerts.filter(status=wanted)
        return alerts


class AcknowledgeInput(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SafetyAlertAcknowledgeView(APIView):
    """A clinician records that they have acted on the alert (who and when are kept), with a note."""

    permission_classes = (IsClinical,)

    @extend_schema(request=AcknowledgeInput, responses=SafetyAlertOutput)
    def post(self, request: Request, id: UUID) -> Response:
        alert = get_object_or_404(selectors.safety_alerts_for(request.user), public_id=id)
        given = AcknowledgeInput(data=request.data)
        given.is_valid(raise_exception=True)
        done = safety_alert_acknowledge(actor=acting_user(request), alert=alert, note=given.validated_data["note"])
        return Response(SafetyAlertOutput(selectors.safety_alerts_for(request.user).get(pk=done.pk)).data)


class DueOutput(serializers.Serializer):
    series = serializers.UUIDField(source="series.public_id")
    instrument = serializers.CharField()
    visit_number = serializers.IntegerField(allow_null=True, help_text="Due before this visit of the series.")
    weeks_after = serializers.IntegerField(allow_null=True, help_text="A follow-up this many weeks after the series.")
    appointment = serializers.UUIDField(source="appointment.public_id", allow_null=True, default=None)
    due_at = ZonedDateTimeField(zone_from="series.location")
    opens_at = ZonedDateTimeField(zone_from="series.location")
    closes_at = ZonedDateTimeField(zone_from="series.location")
    status = serializers.ChoiceField(choices=["upcoming", "due", "overdue", "answered"])
    answered_at = serializers.DateTimeField(source="measure.taken_at", allow_null=True, default=None)


class PatientDueMeasuresView(APIView):
    """The measures the patient's series ask for, with their windows and status (never the answers or scores:
    reception sees this list too)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=DueOutput(many=True))
    def get(self, request: Request, id: UUID) -> Response:
        patient = get_object_or_404(selectors.follow_up_patients_for(request.user), public_id=id)
        return Response(DueOutput(patient_due_measures(patient), many=True).data)


class SuggestionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    patient = serializers.UUIDField(source="patient.public_id")
    patient_name = serializers.SerializerMethodField()
    series = serializers.UUIDField(source="series.public_id")
    rule = serializers.CharField()
    reason = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True, default=None)
    closed_at = serializers.DateTimeField(allow_null=True)
    dismiss_reason = serializers.CharField()
    appointment = serializers.UUIDField(source="appointment.public_id", allow_null=True, default=None)

    def get_patient_name(self, suggestion: MaintenanceSuggestion) -> str:
        return f"{suggestion.patient.first_name} {suggestion.patient.last_name}"


class SuggestionListView(ListAPIView):
    """Booster suggestions of the caller's clinic groups, newest first; ``?status=open`` for those to act on.
    Who and which rule fired, never the scores."""

    permission_classes = (FollowsUp,)
    serializer_class = SuggestionOutput
    filter_backends = ()

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=SuggestionStatus.values)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[MaintenanceSuggestion]:
        suggestions = selectors.suggestions_for(self.request.user).order_by("-created_at", "-id")
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in SuggestionStatus.values:
                raise ValidationError({"status": [f"One of {', '.join(SuggestionStatus.values)}."]})
            suggestions = suggestions.filter(status=wanted)
        return suggestions


class SuggestionBookInput(serializers.Serializer):
    first_date = serializers.DateField(required=False, help_text="Default: by the series' rules after its last visit.")
    time = serializers.TimeField(required=False, input_formats=TIME_FORMATS)
    service_type = PublicIdField(name="service type", scope=scheduling_selectors.service_types_for, required=False)
    accept_alternatives = serializers.BooleanField(default=False)


class SuggestionBookView(APIView):
    """Book the booster as one more visit of the original series (``POST /series/{id}/extend/`` with one visit);
    a collision answers 409 with alternatives, as the extension does."""

    permission_classes = (CanBook,)

    @extend_schema(request=SuggestionBookInput, responses=SuggestionOutput)
    def post(self, request: Request, id: UUID) -> Response:
        suggestion = get_object_or_404(selectors.suggestions_for(request.user), public_id=id)
        given = SuggestionBookInput(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        booked = suggestion_book(
            actor=acting_user(request), suggestion=suggestion, first_date=data.get("first_date"),
            local_time=data.get("time"), service_type=data.get("service_type"),
            accept_alternatives=data["accept_alternatives"],
        )  # fmt: skip
        return Response(SuggestionOutput(selectors.suggestions_for(request.user).get(pk=booked.pk)).data)


class DismissInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SuggestionDismissView(APIView):
    permission_classes = (FollowsUp,)

    @extend_schema(request=DismissInput, responses=SuggestionOutput)
    def post(self, request: Request, id: UUID) -> Response:
        suggestion = get_object_or_404(selectors.suggestions_for(request.user), public_id=id)
        given = DismissInput(data=request.data)
        given.is_valid(raise_exception=True)
        done = suggestion_dismiss(actor=acting_user(request), suggestion=suggestion,
                                  reason=given.validated_data["reason"])  # fmt: skip
        return Response(SuggestionOutput(selectors.suggestions_for(request.user).get(pk=done.pk)).data)


class LetterInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LetterKind.choices)


class LetterOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    patient = serializers.UUIDField(source="patient.public_id")
    series = serializers.UUIDField(source="series.public_id")
    provider = serializers.CharField(source="provider.__str__")
    status = serializers.CharField()
    email_status = serializers.CharField()
    emailed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    pdf = serializers.SerializerMethodField()

    def get_pdf(self, letter: Letter) -> str:
        return f"/api/v1/letters/{letter.public_id}/pdf/"


def _letters(user: Any) -> QuerySet[Letter]:
    return selectors.letters_for(user).select_related("patient", "series", "provider").order_by("-created_at", "-id")


class SeriesLettersView(APIView):
    """Letters about a series to the patient's referring provider: list them, or ask for one (202: the worker
    renders it, and emails it once when the provider has an address; the PDF at ``pdf``)."""

    permission_classes = (IsClinical,)

    @extend_schema(responses=LetterOutput(many=True))
    def get(self, request: Request, id: UUID) -> Response:
        series = get_object_or_404(scheduling_selectors.series_for(request.user), public_id=id)
        return Response(LetterOutput(_letters(request.user).filter(series=series), many=True).data)

    @extend_schema(request=LetterInput, responses={202: LetterOutput})
    def post(self, request: Request, id: UUID) -> Response:
        series = get_object_or_404(scheduling_selectors.series_for(request.user), public_id=id)
        given = LetterInput(data=request.data)
        given.is_valid(raise_exception=True)
        letter = letter_request(actor=acting_user(request), series=series, kind=given.validated_data["kind"])
        return Response(LetterOutput(_letters(request.user).get(pk=letter.pk)).data, status=status.HTTP_202_ACCEPTED)


class PatientLettersView(APIView):
    """Every letter sent about the patient, newest first."""

    permission_classes = (IsClinical,)

    @extend_schema(responses=LetterOutput(many=True))
    def get(self, request: Request, id: UUID) -> Response:
        patient = get_object_or_404(selectors.clinical_patients_for(request.user), public_id=id)
        return Response(LetterOutput(_letters(request.user).filter(patient=patient)[:200], many=True).data)


class LetterPdfView(APIView):
    """The letter's PDF, or 202 while the worker renders it."""

    permission_classes = (IsClinical,)

    @extend_schema(responses=PDF_RESPONSES)
    def get(self, request: Request, id: UUID) -> HttpResponseBase:
        return document_response(get_object_or_404(selectors.letters_for(request.user), public_id=id))


class OutcomesReportView(ReportFormats, APIView):
    """Per location and date range, aggregate counts only: series completed and, per instrument, the share with
    baseline and end scores, the mean change, and the response and remission rates. ``?format=csv|xlsx``."""

    permission_classes = (IsClinical,)
    renderer_classes = (JSONRenderer, ReportCSVRenderer, ReportXLSXRenderer)

    @extend_schema(parameters=[LocationDateRange], responses=ReportOutput)
    def get(self, request: Request) -> Response:
        asked = report_range(request)
        start, end = asked.start, asked.end
        report = outcomes_report(series=scheduling_selectors.series_for(request.user), location=asked.location,
                                 start=start, end=end)  # fmt: skip
        audit_record(actor=acting_user(request), action="report", object_type="outcomes report",
                     patients=report.patients, ip=client_ip(request),
                     details={"from": start.isoformat(), "to": end.isoformat()})  # fmt: skip
        parameters = asked.parameters
        return Response({"report": "outcomes", "parameters": parameters, "rows": report.rows,
                         "totals": [{"series_completed": report.series_completed}]})  # fmt: skip
