"""The production image's build steps, without Docker: the Dockerfile's own RUN commands run here
in production mode (scripts/build_check.py reads them, so this cannot drift from the Dockerfile).
CI also serves a page from the result under gunicorn (.ci/run → scripts/build_check.py)."""

import importlib.util
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_check", ROOT / "scripts" / "build_check.py")
build_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_check)


def test_dockerfile_is_read_whole():
    spec = build_check.dockerfile()
    assert spec["env"]["POLICYHUB_ENV"] == "production"
    assert spec["env"]["STATIC_ROOT"] == "/app/staticfiles"
    commands = [" ".join(words) for _assignments, words in build_check.build_commands(spec)]
    assert "pip install --no-cache-dir -r requirements.txt" in commands
    assert "python manage.py collectstatic --noinput" in commands
    # Every RUN line is read, and what the check does not repeat is only the image's user and
    # folder set-up (needs root; changes this machine's users).
    assert len(spec["runs"]) == len(re.findall(r"^RUN ", (ROOT / "Dockerfile").read_text(), re.M))
    every = [words[0] for run in spec["runs"] for _a, words in map(build_check.split_command, run)]
    repeated = [words[0] for _a, words in build_check.build_commands(spec)]
    assert sorted(set(every) - set(repeated)) == ["chown", "mkdir", "useradd"]
    assert spec["cmd"][:2] == ["gunicorn", "policyhub.wsgi"] and "--bind" in spec["cmd"]


def test_dockerfile_serves_what_the_makefile_and_compose_serve():
    spec = build_check.dockerfile()
    serve = re.search(r"^serve:[^\n]*\n\t([^\n]+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert " ".join(spec["cmd"]) == serve.replace("$(BIN)/", "").strip()


def test_the_dockerfile_build_steps_succeed_in_production_mode(tmp_path):
    """What `docker compose up --build` runs: collectstatic with the manifest storage."""
    spec = build_check.dockerfile()
    env = build_check.build_env(spec, tmp_path)
    build_check.run_build(spec, env, sys.executable, skip_pip=True)  # the venv is the installed image
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())["paths"]
    hashed_css = manifest["vendor/bootstrap/css/bootstrap.min.css"]
    assert re.fullmatch(r"vendor/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css", hashed_css)
    assert (tmp_path / "staticfiles" / hashed_css).exists()
    assert (tmp_path / "staticfiles" / (hashed_css + ".gz")).exists()  # whitenoise's compressed copy


def test_no_static_file_points_at_a_missing_source_map():
    for path in (ROOT / "static").rglob("*"):
        if path.suffix not in {".css", ".js"}:
            continue
        for target in re.findall(r"sourceMappingURL=([^\s*]+)", path.read_text(errors="replace")):
            assert (path.parent / target).exists(), f"{path.relative_to(ROOT)} names a missing {target}"


def test_ci_runs_the_build_check_after_the_suite():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make build-check" in ci
    assert ci.index("make test") < ci.index("make build-check")
    assert re.search(
        r"^build-check:[^\n]*\n\t\$\(BIN\)/python scripts/build_check.py$", (ROOT / "Makefile").read_text(), re.M
    )
