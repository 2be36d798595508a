"""API tokens that expire and can be revoked.

A token is valid for ``AUTH_TOKEN_TTL_HOURS`` after it was issued and until
the user's password changes; a token past either is deleted when it is next
presented (401 ``token_expired``). Each sign-in issues a fresh token and ends
the previous one. ``POST /api/v1/auth/logout/`` revokes the caller's token at
once. One token per user (DRF's authtoken), so revoking it signs the user out
everywhere.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from backend.models import ClinicGroup


class TokenExpired(AuthenticationFailed):
    default_code = "token_expired"


def token_expired(token: Token) -> bool:
    return token.created < timezone.now() - timedelta(hours=settings.AUTH_TOKEN_TTL_HOURS)


def token_issue(user: Any) -> Token:
    """A new token for each sign-in: the user's previous one stops working (one token per user)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(token: Token) -> None:
    Token.objects.filter(pk=token.pk).delete()


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        """DRF's check, reading the token, its user, the user's roles and clinic groups in one query."""
        try:
            token = (
                Token.objects.select_related("user")
                .annotate(
                    role_names=ArraySubquery(Group.objects.filter(user=OuterRef("user")).values("name")),
                    clinic_group_ids=ArraySubquery(ClinicGroup.objects.filter(members=OuterRef("user")).values("pk")),
                )
                .get(key=key)
            )
        except Token.DoesNotExist:
            raise AuthenticationFailed(_("Invalid token.")) from None
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if token_expired(token) or (user.password_changed_at is not None and token.created < user.password_changed_at):
            token_revoke(token)
            raise TokenExpired("The token has expired (or the password changed since); sign in again.")
        user.remember_groups(token.role_names)
        user.remember_clinic_groups(token.clinic_group_ids)
        return user, token
