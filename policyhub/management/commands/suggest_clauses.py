import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import School
from policyhub.importer import DEFAULT_MAX_BYTES, PolicyImportError, import_document
from policyhub.models import PolicyVersion
from policyhub.suggest import DEFAULT_TOP, MAX_QUERY_CHARS, Index, docs_from_parsed, index_for_version, shorten

MAX_TOP = 50


def _top(value: str) -> int:
    try:
        top = int(value)
    except ValueError:
        raise CommandError(f"--top must be a whole number from 1 to {MAX_TOP}, not {value!r}.") from None
    if not 1 <= top <= MAX_TOP:
        raise CommandError(f"--top must be a whole number from 1 to {MAX_TOP}, not {top}.")
    return top


class Command(BaseCommand):
    help = (
        "Suggest the clauses a concern most likely breaches, best first: of the policy a school works under "
        "today (--school), or of a policy document as the importer reads it (--file; nothing is saved). "
        '--json prints {"suggestions": [{"ref": ..., "score": ..., "matched": [...]}, ...]} and nothing else.'
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--school", help="The school's slug, e.g. oakfield: its policy in force today.")
        source.add_argument("--file", help="A policy document (.txt, .docx or .pdf), read as the importer reads it.")
        parser.add_argument("--text", required=True, help="What the concern says.")
        parser.add_argument("--top", default=str(DEFAULT_TOP), help=f"How many clauses (default {DEFAULT_TOP}).")
        parser.add_argument("--json", action="store_true", help="Print JSON to stdout.")

    def handle(self, *args, school, file, text, top, json: bool, **options):
        top = _top(top)
        if not (text or "").strip():
            raise CommandError("Please give the concern's text with --text.")
        if len(text) > MAX_QUERY_CHARS:
            raise CommandError(f"The text is too long: at most {MAX_QUERY_CHARS} characters are read.")
        index, clauses = self._index(school, file)
        suggestions = index.rank(text, top=top)
        if json:
            data = [{"ref": s.ref, "score": s.score, "matched": s.matched} for s in suggestions]
            self.stdout.write(_dumps({"suggestions": data}))
            return
        if not suggestions:
            self.stdout.write("No clause shares enough words with this concern to suggest one.")
        texts = {d.ref: d.text for d in clauses}
        for s in suggestions:
            self.stdout.write(f"{s.ref:<10} {s.score:.2f}  {_first_words(texts.get(s.ref, ''))}")
            self.stdout.write(f"{'':<10}       matched: {', '.join(s.matched)}")

    def _index(self, school, file):
        if file:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"There is no file at {file}.")
            if path.stat().st_size > DEFAULT_MAX_BYTES:
                raise CommandError(f"{path.name}: the file is too large to read (over {DEFAULT_MAX_BYTES} bytes).")
            try:
                parsed = import_document(path.read_bytes(), path.name)
            except PolicyImportError as error:
                raise CommandError(f"{path.name}: {error}") from None
            docs = docs_from_parsed(parsed)
            if not docs:
                raise CommandError(f"{path.name}: no clauses were found in this document.")
            return Index.build(docs), docs
        school_obj = School.objects.filter(slug=school).first()
        if school_obj is None:
            raise CommandError(f"There is no school with the slug {school!r}.")
        version = PolicyVersion.objects.in_force_on(school_obj, timezone.localdate())
        if version is None:
            raise CommandError(f"{school_obj.name} has no policy in force today.")
        index = index_for_version(version)
        return index, [e.doc for e in index.entries]


def _first_words(text: str) -> str:
    return shorten(text, 90)[0]


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False)
