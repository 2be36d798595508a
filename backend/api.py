"""Auth endpoints: token, ``/me/``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token."""

    permission_classes = (AllowAny,)

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class MeOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), source="role_names")
    patient = serializers.SerializerMethodField()

    def get_patient(self, user: Any) -> str | None:
        patient = getattr(user, "patient", None)
        return str(patient.public_id) if patient is not None else None


class MeView(APIView):
    """Who am I: id, username, roles and, for patients, their patient id."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)
