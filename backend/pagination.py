from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


class Pagination(PageNumberPagination):
    """Page-number pagination that refuses what DRF would quietly replace.

    DRF serves page 1 for ``page=`` and the default size for ``page_size=abc``;
    here ``page`` must be a whole number from 1 (a page past the end stays 404)
    and ``page_size`` one from 1 to ``max_page_size``, else 400, so a client
    never gets a page it did not ask for.
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        _ensure_whole_number(request, self.page_query_param, highest=None, message="A page number from 1.")
        return super().get_page_number(request, paginator)

    def get_page_size(self, request: Request) -> int | None:
        message = f"A whole number from 1 to {self.max_page_size}."
        _ensure_whole_number(request, self.page_size_query_param, highest=self.max_page_size, message=message)
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def _ensure_whole_number(request: Request, name: str, *, highest: int | None, message: str) -> None:
    """A query parameter, when given, is one whole number from 1 (to ``highest``), else 400."""
    raw = request.query_params.getlist(name)
    if not raw:
        return
    value = raw[0]
    if len(raw) > 1 or not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= (highest or int(value)):
        raise ValidationError({name: [message]})
