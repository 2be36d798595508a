"""Auth endpoints: token, ``/me/``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.auth import token_issue, token_revoke
from backend.parsers import BoundedJSONParser
from backend.throttling import LoginPerAddressThrottle, LoginPerUsernameThrottle


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (valid AUTH_TOKEN_TTL_HOURS; attempts rate-limited)."""

    permission_classes = (AllowAny,)
    parser_classes = (BoundedJSONParser,)  # JSON like every endpoint (DRF's token view also takes forms)
    throttle_classes = (LoginPerAddressThrottle, LoginPerUsernameThrottle)

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        credentials = self.get_serializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        return Response({"token": token_issue(credentials.validated_data["user"]).key})


class LogoutView(APIView):
    """Revoke the caller's token now (it stops working everywhere)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            token_revoke(request.auth)
        return Response(status=204)


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
