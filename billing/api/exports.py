"""Exports: start a background job, follow its progress, download its file; or stream a small range now."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from backend.audit import client_ip
from backend.permissions import acting_user
from backend.throttling import ExportThrottle
from billing import selectors
from billing.errors import ExportExpired, ExportNotReady, ExportTooLarge
from billing.exports.queries import ExportQuery
from billing.exports.writers import CONTENT_TYPES, count_rows, csv_chunks, request_cursor, write_xlsx
from billing.models import ExportFormat, ExportJob, ExportKind, ExportStatus
from billing.permissions import Accounting
from billing.services.exports import ExportSpec, export_downloaded, export_request, export_stream_query
from scheduling.api.ranges import LocationDateRange

# A finished export is sent with its own format's media type.
FILE_RESPONSES = {(200, media_type): OpenApiResponse(OpenApiTypes.BINARY) for media_type in CONTENT_TYPES.values()}


class ExportFields(LocationDateRange):
    """What to export: kind, format, an inclusive range of local dates, optionally one location."""

    kind = serializers.ChoiceField(choices=ExportKind.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)
    bom = serializers.BooleanField(default=False, help_text="Start CSV with a UTF-8 byte order mark (Excel)")


def spec_from(data: dict[str, Any]) -> ExportSpec:
    return ExportSpec(kind=data["kind"], format=data["format"], date_from=data["from"], date_to=data["to"],
                      location=data.get("location"), bom=data["bom"])  # fmt: skip


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    format = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    location = serializers.UUIDField(source="location.public_id", allow_null=True, default=None)
    bom = serializers.BooleanField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    progress = serializers.IntegerField(help_text="Whole percent, 100 when the file is ready")
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True)
    rows = serializers.IntegerField(allow_null=True, help_text="Data rows in the file, once done")
    url = serializers.SerializerMethodField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    checksum = serializers.CharField()
    error = serializers.CharField(source="last_error")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, job: ExportJob) -> str | None:
        if job.status != ExportStatus.DONE:
            return None
        request = self.context.get("request")
        path = f"/api/v1/exports/{job.public_id}/download/"
        return request.build_absolute_uri(path) if request else path


def _stream_csv(query: ExportQuery, *, bom: bool) -> Iterator[bytes]:
    with request_cursor() as cursor:
        for data, _rows in csv_chunks(cursor, query, bom=bom):
            yield data


def _noop(rows: int) -> None:
    return None


class ExportViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet[ExportJob]):  # fmt: skip
    """Export jobs of the signed-in accountant or admin: each sees and downloads only their own."""

    permission_classes = (Accounting,)
    throttle_classes = (ExportThrottle,)
    serializer_class = ExportOutput
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ("status", "kind", "format")

    def get_queryset(self) -> QuerySet[ExportJob]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ExportJob.objects.none()
        return selectors.exports_for(acting_user(self.request))

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # "format" names the export's format in this API, not a DRF renderer.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(request=ExportFields, responses={202: ExportOutput})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        fields = ExportFields(data=request.data, context={"request": request})
        fields.is_valid(raise_exception=True)
        job = export_request(actor=acting_user(request), spec=spec_from(fields.validated_data), ip=client_ip(request))
        job = self.get_queryset().get(pk=job.pk)
        answer = Response(ExportOutput(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
        answer["Location"] = f"/api/v1/exports/{job.public_id}/"
        return answer

    @extend_schema(responses=FILE_RESPONSES)
    @action(detail=True, methods=["get"])
    def download(self, request: Request, id: str) -> HttpResponseBase:
        job = get_object_or_404(self.get_queryset(), public_id=id)
        if job.status == ExportStatus.EXPIRED:
            raise ExportExpired("This export's file was deleted after the retention period; run it again.")
        if job.status != ExportStatus.DONE:
            raise ExportNotReady(f"The export is {job.status}; download it when its status is done.")
        export_downloaded(actor=acting_user(request), job=job, ip=client_ip(request))
        response = FileResponse(default_storage.open(job.file.name, "rb"), as_attachment=True, filename=job.filename,
                                content_type=CONTENT_TYPES[ExportFormat(job.format)])  # fmt: skip
        response["ETag"] = f'"{job.checksum}"'
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        parameters=[ExportFields],
        responses=FILE_RESPONSES,
        description="Download a small export at once (up to EXPORT_STREAM_MAX_ROWS rows) with the same writer.",
    )
    @action(detail=False, methods=["get"])
    def stream(self, request: Request) -> HttpResponseBase:
        fields = ExportFields(data=request.query_params, context={"request": request})
        fields.is_valid(raise_exception=True)
        spec = spec_from(fields.validated_data)
        query = export_stream_query(actor=acting_user(request), spec=spec, ip=client_ip(request))
        with request_cursor() as cursor:
            rows = count_rows(cursor, query)
        if rows > settings.EXPORT_STREAM_MAX_ROWS:
            raise ExportTooLarge(
                f"{rows} rows is more than {settings.EXPORT_STREAM_MAX_ROWS} for a direct download; "
                "POST /api/v1/exports/ to run it in the background.",
                extra={"rows": rows},
            )
        content_type = CONTENT_TYPES[ExportFormat(spec.format)]
        if spec.format == ExportFormat.XLSX:
            out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
            with request_cursor() as cursor:
                write_xlsx(out, cursor, query, _noop)
            out.seek(0)
            return FileResponse(out, as_attachment=True, filename=spec.filename, content_type=content_type)
        response = StreamingHttpResponse(_stream_csv(query, bom=spec.bom), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{spec.filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
