"""Rows already in hand, stored where ``prefetch_related`` would have put them.

A service that has just created a parent and its children (a series and its
visits) hands them back ready to render: ``parent.children.all()`` then
answers from memory, as after ``prefetch_related``, instead of reading back
rows the same transaction wrote a moment ago.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model


def remember_related(instance: Model, related_name: str, rows: Iterable[Model]) -> None:
    """Make ``instance.<related_name>.all()`` return ``rows`` without a query (a reverse foreign key)."""
    manager: Any = getattr(instance, related_name)
    queryset = manager.get_queryset()  # lazy: built, never evaluated
    # The same three steps as django.db.models.query.prefetch_one_level.
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache: dict[str, Any] = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[manager.field.remote_field.cache_name] = queryset
