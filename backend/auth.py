"""API tokens that expire and can be revoked.

A token is valid for ``AUTH_TOKEN_TTL_HOURS`` after it was issued; an
expired token is deleted when it is next presented (401 ``token_expired``),
and signing in again issues a fresh one. ``POST /api/v1/auth/logout/``
revokes the caller's token at once. One token per user (DRF's authtoken), so
revoking it signs the user out everywhere.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from backend import sql
from backend.models import User


class TokenExpired(AuthenticationFailed):
    default_code = "token_expired"


def token_expired(token: Token) -> bool:
    return token.created < timezone.now() - timedelta(hours=settings.AUTH_TOKEN_TTL_HOURS)


def token_issue(user: Any) -> Token:
    """The user's token, replaced by a new one if it has expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def token_revoke(token: Token) -> None:
    Token.objects.filter(pk=token.pk).delete()


@cache  # written once, when the models are ready
def _token_statement() -> str:
    """The token, its user, the user's group names and clinic group ids: one statement (see backend.sql)."""
    groups, memberships = User.groups.through, User.clinic_groups.through  # clinic groups: scheduling's model
    user_id = f"u.{sql.column(User, 'id')}"
    role_names = (
        f"SELECT g.{sql.column(Group, 'name')} FROM {sql.table(Group)} g JOIN {sql.table(groups)} ug "  # noqa: S608
        f"ON ug.{sql.column(groups, 'group')} = g.{sql.column(Group, 'id')} "
        f"WHERE ug.{sql.column(groups, 'user')} = {user_id}"
    )
    clinic_groups = (
        f"SELECT m.{sql.column(memberships, 'clinicgroup')} FROM {sql.table(memberships)} m "  # noqa: S608
        f"WHERE m.{sql.column(memberships, 'user')} = {user_id}"
    )
    return (
        f"SELECT {sql.select_list(Token, 't')}, {sql.select_list(User, 'u')}, "  # noqa: S608 - model metadata
        f"ARRAY({role_names}), ARRAY({clinic_groups}) FROM {sql.table(Token)} t "
        f"JOIN {sql.table(User)} u ON {user_id} = t.{sql.column(Token, 'user')} WHERE t.{sql.column(Token, 'key')} = %s"
    )


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        """DRF's check, reading the token, its user, the user's roles and clinic groups in one query."""
        with connection.cursor() as cursor:
            cursor.execute(_token_statement(), [key])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("Invalid token."))
        split = sql.width(Token)
        token, user = sql.from_row(Token, row[:split]), sql.from_row(User, row[split : split + sql.width(User)])
        token.user = user
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if token_expired(token):
            token_revoke(token)
            raise TokenExpired("The token has expired; sign in again.")
        user.remember_groups(row[-2])
        user.remember_clinic_groups(row[-1])
        return user, token
