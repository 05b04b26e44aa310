"""What a person leaving a school leaves behind: their open cases, tasks, official accounts ...

Ending a membership is deleting its row (the audit trail and the case re-routing listen to that).
The staff import ends and grants memberships in bulk, without those model signals: it sends
`accounts.staff_import.roles_changed` once instead (school, user_ids, granted, ended).
Before the staff import ends memberships (`import_staff --deactivate-missing`, [10]) it lists, for
each leaver, what needs a new owner. The apps above this one (incidents, approvals ...) register
what they hold here, so accounts/ imports nothing from them.

    @leavers.holding
    def open_cases(user, school):
        return [Holding("Open case", "OAK-7KQ2-M9XD", "/incidents/OAK-7KQ2-M9XD/"), ...]
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Holding:
    kind: str  # "Open case", "Task", "Official account": what it is, in words
    label: str  # a reference or a name, never the content of a report
    url: str = ""  # where the head reassigns it


_HOLDERS: list[Callable] = []


def holding(fn: Callable) -> Callable:
    """Register fn(user, school) -> list[Holding]."""
    _HOLDERS.append(fn)
    return fn


def left_behind(user, school) -> list[Holding]:
    return [item for fn in _HOLDERS for item in fn(user, school)]
