"""The choices the access rule reads (incidents/access.py), apart from the models so that the
models can use the rule without an import circle. incidents/models.py re-exports them: import
them from there as before."""

from django.db import models


class Category(models.TextChoices):
    CYBERBULLYING = "cyberbullying", "Cyberbullying or trolling of staff"
    STAFF_CONDUCT = "staff_conduct", "Concern about a member of staff"
    PARENT_POST = "parent_post", "A parent's or carer's post"
    PUPIL_POST = "pupil_post", "A pupil's post"
    ACCOUNT_COMMENT = "account_comment", "Comment or complaint on a school account"
    SAFEGUARDING = "safeguarding", "Safeguarding concern (a child may be at risk)"
    PREVENT = "prevent", "Prevent concern (extremism or radicalisation)"
    ILLEGAL_CONTENT = "illegal_content", "Illegal content (for example indecent images of children)"
    DATA_BREACH = "data_breach", "Confidentiality or data breach"
    MEDIA_ENQUIRY = "media_enquiry", "Media enquiry"
    UNAUTHORISED_ACCOUNT = "unauthorised_account", "Unauthorised account using the school's name"


# The DSL is told at once of these and owns them with the head (docs/specification.md §3).
DSL_CATEGORIES = frozenset({Category.SAFEGUARDING, Category.PREVENT, Category.ILLEGAL_CONTENT})


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "In triage"
    INVESTIGATING = "investigating", "Investigating"
    OUTCOME_PROPOSED = "outcome_proposed", "Outcome proposed"
    GOVERNOR_REVIEW = "governor_review", "Governor review"
    CLOSED = "closed", "Closed"
    # Merged into another case (incidents/merging.py): the report is handled there, and comes back
    # only by an explicit split. Neither open nor closed: its survivor's status says how it goes.
    MERGED = "merged", "Merged into another case"


OPEN_STATUSES = frozenset(set(Status.values) - {Status.CLOSED, Status.MERGED})


class ReviewDecision(models.TextChoices):
    UPHOLD = "uphold", "Uphold the outcome"
    REFER_BACK = "refer_back", "Refer back for more investigation"
