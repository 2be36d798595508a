"""Who may see what of the treatment loop.

Clinicians and admins read and write measures, alerts and letters; a patient answers and reads only
their own measures; reception sees instruments (for due and overdue status) but never answers or scores;
accountants see nothing clinical. A measure out of someone's sight is "not found" (404), never 403.
"""

from __future__ import annotations

from backend.permissions import HasRole
from backend.roles import Role

CLINICAL_ROLES = (Role.ADMIN, Role.CLINICIAN)
FOLLOW_UP_ROLES = (Role.ADMIN, Role.CLINICIAN, Role.RECEPTION)  # due status and maintenance suggestions
MEASURE_ROLES = (*CLINICAL_ROLES, Role.PATIENT)
INSTRUMENT_READERS = (*MEASURE_ROLES, Role.RECEPTION)


class IsClinical(HasRole):
    roles = frozenset(CLINICAL_ROLES)


class ReadsInstruments(HasRole):
    roles = frozenset(INSTRUMENT_READERS)


class FollowsUp(HasRole):
    roles = frozenset(FOLLOW_UP_ROLES)
