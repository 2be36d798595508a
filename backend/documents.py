"""What every rendered document shares (``backend.models.RenderedDocument``): its snapshot's digest, and how the
API serves it: the PDF when it is ready, 202 with its status while the worker renders it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response

from backend.errors import ApplicationError
from backend.models import DocumentStatus, RenderedDocument

RETRY_AFTER_SECONDS = 2


def snapshot_digest(payload: dict[str, Any]) -> str:
    """SHA-256 of the snapshot in canonical JSON: the same content, the same digest."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class DocumentFailed(ApplicationError):
    code = "document_failed"
    http_status = 409
    title = "Document could not be rendered"


class DocumentStatusOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    kind = serializers.CharField()
    status = serializers.CharField()
    detail = serializers.SerializerMethodField()

    def get_detail(self, document: RenderedDocument) -> str:
        return "The PDF is being prepared; ask again in a moment."


PDF_RESPONSES = {
    (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF"),
    202: OpenApiResponse(DocumentStatusOutput, description="Still rendering; retry after Retry-After seconds"),
}


def document_response(document: Any) -> HttpResponseBase:
    """The PDF (200) when rendered, 202 with Retry-After while it renders, 409 when it failed."""
    if document.status == DocumentStatus.DONE:
        response = FileResponse(
            default_storage.open(document.file.name, "rb"),
            content_type="application/pdf",
            filename=f"{document.kind}-{document.public_id.hex[:10]}.pdf",
        )
        response["ETag"] = f'"{document.checksum}"'
        response["Cache-Control"] = "private, no-store"
        return response
    if document.status == DocumentStatus.FAILED:
        raise DocumentFailed("The document could not be rendered; an administrator can retry it in the admin.")
    pending = Response(DocumentStatusOutput(document).data, status=status.HTTP_202_ACCEPTED)
    pending["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return pending
