"""The treatment loop's endpoints: instruments, a patient's measures and outcomes, safety alerts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.fields import AwareDateTimeField, PublicIdField
from backend.permissions import acting_user, user_has_role
from backend.roles import Role
from outcomes import selectors
from outcomes.models import AlertStatus, Instrument, Measure, MeasureSource, SafetyAlert
from outcomes.permissions import IsClinical, ReadsInstruments
from outcomes.services.measures import measure_record
from outcomes.services.safety import crisis_guidance, safety_alert_acknowledge
from outcomes.summary import change_from_baseline, patient_outcomes
from scheduling import selectors as scheduling_selectors
from scheduling.models import Patient

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
