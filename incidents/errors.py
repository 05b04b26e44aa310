"""The workflow's refusals: a change the server will not make, with a message for the person who asked.

In a module of their own, importing nothing, so services, transitions, retention and views can all
raise and catch them without importing one another.
"""


class ActionRefused(Exception):
    """A change the server will not make. The message is for the person who asked."""


class NotAllowed(ActionRefused):
    """The person's relation to the case does not allow this (HTTP 403)."""


class WrongState(ActionRefused):
    """The case is not in a state this change starts from (someone may have moved it)."""


class Stale(WrongState):
    """The case changed between reading it and writing: the conditional update matched no row."""


class RequirementMissing(ActionRefused):
    """Something the change needs has not been recorded yet."""


class Invalid(ActionRefused):
    """Bad input that a form should have caught; nothing was changed."""
