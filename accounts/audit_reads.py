"""Every response that shows case content writes its audit event, whatever the method and status.

The routes that show case content are listed here, each with what names the case in its URL.
`AuditMiddleware` records, for those routes only:
- a view (a download for evidence files) when the response shows the page: 200, or 400 when a
  form was refused and the page is shown again with the case on it (an empty note, a bad triage);
- a refusal when the case or page was not found or not allowed (403/404), with a log line;
- nothing for a redirect: a change is recorded by its service and by the database triggers.

tests/security/test_audited_reads.py walks every URL pattern: a route must be in CASE_READS or in
its hand-written list of routes that show no case content, so a new page cannot forget.
"""

import logging

from .actor import acting_as
from .audit import record
from .audit_cases import about
from .case_lookups import lookups
from .models import AuditAction

log = logging.getLogger("policyhub.audit")

CASE = "case"  # the URL's `reference` is the case
FILE = "file"  # the URL's `public_id` is one of its evidence files
PERSON = "person"  # the URL's `user_id` is the adult whose cases the page gathers
LIST = "list"  # a list of cases; a view that shows one case by other means names it (`shown`)
IF_SHOWN = "if shown"  # a page where a list of cases appears only sometimes: recorded when it does
SELF = "self"  # the view records its own events, one per case shown (subject access)

CASE_READS = {
    "home": IF_SHOWN,  # "My reports": the newest of the person's own reports; "Your tasks"
    "policy:clause": IF_SHOWN,  # the cases citing the clause
    "incidents:mine": LIST,
    "incidents:queue": LIST,
    "incidents:reviews": LIST,
    "incidents:termly_report": LIST,
    "incidents:person": PERSON,
    "incidents:report_done": CASE,
    "incidents:detail": CASE,
    # The case's actions: a refused form answers 400 with the whole case page.
    "incidents:acknowledge": CASE,
    "incidents:triage": CASE,
    "incidents:start_investigation": CASE,
    "incidents:propose_outcome": CASE,
    "incidents:close": CASE,
    "incidents:refer_to_governors": CASE,
    "incidents:decide": CASE,
    "incidents:declare_conflict": CASE,
    "incidents:reopen": CASE,
    "incidents:add_note": CASE,
    "incidents:record_referral": CASE,
    "incidents:add_evidence": CASE,
    "incidents:evidence_download": FILE,
    "incidents:evidence_preview": FILE,
    "incidents:evidence_withdraw": FILE,
    "audit:case_history": CASE,
    "retention:upcoming": LIST,  # and the case found by reference, named by the view
    "retention:hold": CASE,
    "retention:release": CASE,
    "retention:pension_age": CASE,
    "sar:preview": SELF,
    "sar:export": SELF,
    # Tasks on a case ([8]): a refused form answers 400 with the whole case page.
    "incidents:assign_task": CASE,
    "incidents:complete_task": CASE,
    "incidents:cancel_task": CASE,
    "incidents:link": CASE,
    "incidents:unlink": CASE,
    "incidents:merge": CASE,
    "incidents:split": CASE,
    # The reporter's channel: a refused message answers 400 with the case page and the thread.
    "incidents:message_reporter": CASE,
    "incidents:message_owner": CASE,
    "incidents:what_we_did": CASE,
    # Platform take-downs: a refused form answers 400 with the case page.
    "incidents:request_takedown": CASE,
    "incidents:record_removal": CASE,
    "incidents:record_platform_refusal": CASE,
    "incidents:record_escalation_step": CASE,
    # The allegation records (incidents/allegations.py): case actions, refused forms show the case.
    "incidents:decide_to_investigate": CASE,
    "incidents:record_investigation_report": CASE,
    "incidents:record_formal_action": CASE,
    "incidents:record_hearing_held": CASE,
    "casefile:form": CASE,  # the case file's choices; a refused download shows them again (400)
    "casefile:download": CASE,
    "staff_import": IF_SHOWN,  # the preview: a leaver's open cases, by reference (accounts/staff_import_views.py)
}
DOWNLOADS = {"incidents:evidence_download", "incidents:evidence_preview", "casefile:download"}


def shown(request, incident_id=None) -> None:
    """Called by the code that puts cases on a page: marks an IF_SHOWN page as showing cases, and
    names the one case a list page shows found by other means than its URL (retention's "Find a
    case"), so the event is attributable to the case."""
    request._audit_shown = True
    if incident_id is not None:
        request._audit_incident = int(incident_id)


def fetched(request, reference: str, incident_id: int) -> None:
    """Called by the code that fetched the case a URL names by `reference`: the event takes its
    database id from here instead of looking the reference up again."""
    request._audit_case = {str(reference): incident_id}


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Row changes made while answering are recorded as made by this person (accounts/actor.py).
        user = getattr(request, "user", None)
        with acting_as(user if user is not None and user.is_authenticated else None):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is None or not request.user.is_authenticated:
            return response
        kind = CASE_READS.get(match.view_name)
        if kind is None or kind == SELF:
            return response
        status = response.status_code
        if kind == IF_SHOWN and status in (200, 400) and not getattr(request, "_audit_shown", False):
            return response
        if status in (403, 404):
            action = AuditAction.REFUSED
            log.warning("refused %s %s for user %s", request.method, match.view_name, request.user.pk)
        elif status in (200, 400):
            action = AuditAction.DOWNLOAD if match.view_name in DOWNLOADS and status == 200 else AuditAction.VIEW
        else:
            return response
        object_type, object_id, object_ref, detail = _audited_object(request, match, kind)
        school = request.ctx.school if hasattr(request, "ctx") else None
        record(
            action,
            request=request,
            object_type=object_type,
            object_id=object_id,
            object_ref=object_ref,
            school_id=school.pk if school else None,
            detail={**detail, "view": match.view_name, "status": status},
        )
        return response


def _audited_object(request, match, kind) -> tuple[str, str, str, dict]:
    """(type, database id, reference, detail naming the case) of what a request for case content is
    about. URLs name cases by reference and files by a random id, never a database id; the event
    keeps the database id too, so the case's history and the subject filter find it."""
    if kind == CASE:
        reference = str(match.kwargs["reference"])
        pk = getattr(request, "_audit_case", {}).get(reference)  # the view fetched it: no second look-up
        if pk is None:
            pk = lookups().case_of_reference(reference)  # registered by incidents (accounts/case_lookups.py)
        return "incident", str(pk or ""), reference, about(pk) if pk else {}
    if kind == FILE:
        key = str(match.kwargs["public_id"])
        pk, incident_id = lookups().file_of_public_id(key) or ("", None)
        return "evidence", str(pk), key, about(incident_id) if incident_id else {}
    if kind == PERSON:
        return "person", str(match.kwargs["user_id"]), "", {}
    incident_id = getattr(request, "_audit_incident", None)
    if incident_id is not None:
        return "incident", str(incident_id), "", about(incident_id)
    return match.url_name, "", "", {}
