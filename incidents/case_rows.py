"""The case page's repeated rows (timeline lines, evidence files, messages), written in Python.

A row written by an include or a `{% for %}` of template tags costs far more than the same markup
written here with format_html ([12] Performance, docs/performance.md). The markup is the one the
templates wrote (tests/incidents/test_case_rows.py compares them); every value goes through
format_html's escaping, and the only markup passed in whole is Django's own (linebreaksbr, the
CSRF input) and the withdraw form's (policyhub/templatetags/plain_crispy.py). `detailed` means the
owners' page, as in the templates: names, internal entries, checksums and withdrawal reasons are
written only then, and are not even read otherwise (the reporter's thread is fetched without its
authors).
"""

from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .deadlines import format_local
from .models import MessageKind


def _local(value) -> str:
    return format_local(value) if value else ""  # incident_tags.local_time


def csrf_input(csrf_token) -> str:
    """What `{% csrf_token %}` writes for the page's token."""
    if not csrf_token or csrf_token == "NOTPROVIDED":  # noqa: S105 (Django's marker for no token, no secret)
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)


# --- Timeline ------------------------------------------------------------------------------------


def _timeline_line(entry, detailed: bool) -> str:
    internal = entry.internal and detailed
    head = format_html(
        "{}{}{}",
        _local(entry.at),
        format_html(" · {}", entry.actor) if detailed and entry.actor_id else "",
        format_html(' · <span class="badge text-bg-light border">{}</span>', "internal") if internal else "",
    )
    what = entry.get_kind_display()
    if entry.to_status:
        moved = entry.get_to_status_display()
        if entry.from_status:
            moved = format_html("{} → {}", entry.get_from_status_display(), moved)
        what = format_html("{}: {}", what, moved)
    note = format_html("<div>{}</div>", linebreaksbr(entry.note)) if entry.note else ""
    return format_html(
        '<li class="border-start border-3 ps-3 pb-2 {}">'
        '<div class="small text-body-secondary">{}</div><div>{}</div>{}</li>',
        "border-secondary" if internal else "border-primary",
        head,
        what,
        note,
    )


def timeline_rows(entries, detailed: bool = False) -> str:
    return format_html_join("\n", "{}", ((_timeline_line(entry, detailed),) for entry in entries))


# --- Evidence ------------------------------------------------------------------------------------


def _evidence_row(item, detailed: bool, withdraw: str) -> str:
    preview = (
        format_html(
            '<img src="{}" alt="Preview of {}" class="img-thumbnail evidence-thumb" width="120" loading="lazy">',
            reverse("incidents:evidence_preview", args=[item.public_id]),
            item.original_name,
        )
        if item.preview_name
        else ""
    )
    captured = format_html(", captured {}", _local(item.captured_at)) if item.captured_at else ""
    source = format_html('<div class="small text-break">From {}</div>', item.captured_url) if item.captured_url else ""
    checksum = (
        format_html('<div class="small text-body-secondary">SHA-256 <code>{}</code></div>', item.sha256)
        if detailed
        else ""
    )
    if item.withdrawn_at:
        state = format_html(
            '<div class="small"><span class="badge text-bg-secondary">Withdrawn</span> {}{}</div>',
            _local(item.withdrawn_at),
            format_html(": {}", item.withdrawn_reason) if detailed else "",
        )
    elif withdraw:
        state = format_html(
            '<details class="small mt-1"><summary>Withdraw this file</summary>'
            '<form method="post" action="{}" class="mt-2">{}'
            '<button type="submit" class="btn btn-sm btn-outline-danger">Withdraw (the file is kept)</button>'
            "</form></details>",
            reverse("incidents:evidence_withdraw", args=[item.public_id]),
            withdraw,
        )
    else:
        state = ""
    return format_html(
        '<li class="mb-3 d-flex gap-3 align-items-start">{}<div><a href="{}">{}</a> '
        '<span class="small text-body-secondary">({}{})</span>{}{}{}</div></li>',
        preview,
        reverse("incidents:evidence_download", args=[item.public_id]),
        item.original_name,
        filesizeformat(item.size),
        captured,
        source,
        checksum,
        state,
    )


def evidence_rows(items, detailed: bool = False, withdraw_form=None, csrf_token=None) -> str:
    """The withdraw form is the same for every file: rendered once (as crispy writes it), not once a file."""
    withdraw = ""
    if withdraw_form:  # none on pages other than the owners', "" when the template has none
        from policyhub.templatetags.plain_crispy import plain_crispy

        withdraw = format_html("{}{}", csrf_input(csrf_token), plain_crispy(withdraw_form))
    return format_html_join("\n", "{}", ((_evidence_row(item, detailed, withdraw),) for item in items))


# --- Messages ------------------------------------------------------------------------------------


def _message_row(m, detailed: bool) -> str:
    if m.kind == MessageKind.WHAT_WE_DID:
        who = format_html("<strong>What we did</strong>{}", format_html(" · {}", m.author) if detailed else "")
    elif m.kind == MessageKind.TO_OWNER:
        who = format_html("From the reporter, {}", m.author) if detailed else "You wrote"
    else:
        who = format_html("To the reporter, from {}", m.author) if detailed else "From the school"
    return format_html(
        '<li class="card mb-2{}"><div class="card-body py-2">'
        '<div class="small text-body-secondary">{} · {} </div><div>{}</div></div></li>',
        " border-success" if m.kind == MessageKind.WHAT_WE_DID else "",
        _local(m.sent_at),
        who,
        linebreaksbr(m.body),
    )


def message_rows(thread, detailed: bool = False) -> str:
    return format_html_join("\n", "{}", ((_message_row(m, detailed),) for m in thread))
