#!/usr/bin/env python3
"""Build and serve the production image's steps without Docker (used by .ci/run).

No Docker engine runs in CI, so this reads the Dockerfile and does what it does, here:
  1. its ENV lines become the environment (POLICYHUB_ENV=production ...), with the folders moved
     into a temporary directory;
  2. its RUN commands run: `pip install -r requirements.txt` into the current virtualenv, every
     `manage.py` command (collectstatic) with the build's throwaway SECRET_KEY/ALLOWED_HOSTS;
     only the image's user and folder set-up (useradd, mkdir, chown) is skipped;
  3. the database (a temporary SQLite file) is migrated, as docker compose's web service does;
  4. its CMD (gunicorn) starts with production settings on a free loopback port, and the login
     page and a fingerprinted static file are fetched and checked (HTTPS redirect, CSP, HSTS,
     whitenoise serving the manifest's name with a long cache lifetime);
  5. gunicorn is stopped.
Exits non-zero, naming the failed step, when anything is wrong.

    .venv/bin/python scripts/build_check.py
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "policyhub.example.org"
# Image set-up that needs root and changes this machine's users and folders: not repeated here.
SYSTEM_COMMANDS = {"useradd", "mkdir", "chown"}


class CheckFailed(Exception):
    pass


def dockerfile(path: Path = ROOT / "Dockerfile") -> dict:
    """The Dockerfile's ENV (a dict), RUN commands (each a list of `&&`-separated shell commands)
    and CMD (a list), with line continuations joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    env: dict[str, str] = {}
    runs: list[list[str]] = []
    cmd: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
        elif instruction == "RUN":
            runs.append([part.strip() for part in rest.split("&&") if part.strip()])
        elif instruction == "CMD":
            cmd = json.loads(rest)
    return {"env": env, "runs": runs, "cmd": cmd}


def split_command(command: str) -> tuple[dict[str, str], list[str]]:
    """`A=1 B=2 prog args` → ({"A": "1", "B": "2"}, ["prog", "args"])."""
    words = shlex.split(command)
    assignments = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        assignments[key] = value
    return assignments, words


def build_commands(spec: dict) -> list[tuple[dict[str, str], list[str]]]:
    """The RUN commands this machine repeats: everything but SYSTEM_COMMANDS."""
    commands = []
    for run in spec["runs"]:
        for command in run:
            assignments, words = split_command(command)
            if words and words[0] not in SYSTEM_COMMANDS:
                commands.append((assignments, words))
    return commands


def localise(words: list[str], python: str) -> list[str]:
    """The image's `python`/`pip`/`gunicorn` are this virtualenv's."""
    bin_dir = Path(python).parent
    head = words[0]
    if head == "python":
        return [python, *words[1:]]
    if head == "pip":
        return [python, "-m", "pip", *words[1:]]
    if (bin_dir / head).exists():
        return [str(bin_dir / head), *words[1:]]
    return words


def build_env(spec: dict, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}}
    env.update(spec["env"])
    # The image's folders, moved into the temporary directory (same names underneath).
    env["POLICYHUB_VAR_DIR"] = str(tmp / "var")
    env["MEDIA_ROOT"] = str(tmp / "var" / "media")
    env["STATIC_ROOT"] = str(tmp / "staticfiles")
    env.pop("SECRET_KEY", None)
    env.pop("ALLOWED_HOSTS", None)
    return env


def run_build(spec: dict, env: dict[str, str], python: str, *, skip_pip: bool = False) -> None:
    """The Dockerfile's RUN commands, in order, in production mode."""
    for assignments, words in build_commands(spec):
        if skip_pip and words[0] == "pip":
            continue
        argv = localise(words, python)
        print("RUN", shlex.join([f"{k}={v}" for k, v in assignments.items()] + words), flush=True)
        result = subprocess.run(  # noqa: S603 (the Dockerfile's own commands)
            argv, cwd=ROOT, env={**env, **assignments}, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise CheckFailed(f"{shlex.join(words)} failed:\n{result.stdout}\n{result.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (a loopback URL we built)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def serve_and_check(spec: dict, env: dict[str, str], python: str, tmp: Path) -> None:
    port = free_port()
    cmd = list(spec["cmd"])
    if "--bind" not in cmd:
        raise CheckFailed(f"The Dockerfile's CMD has no --bind: {cmd}")
    cmd[cmd.index("--bind") + 1] = f"127.0.0.1:{port}"
    log = (tmp / "gunicorn.log").open("w+")
    server = subprocess.Popen(  # noqa: S603 (the Dockerfile's own CMD)
        localise(cmd, python), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    https = {"Host": HOST, "X-Forwarded-Proto": "https"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, headers, body = fetch(f"{base}/accounts/login/", https)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise CheckFailed(f"gunicorn did not start:\n{log.read()}") from None
                time.sleep(0.3)
        if status != 200:
            raise CheckFailed(f"login page over HTTPS: {status}, expected 200\n{body[:2000]!r}")
        print(f"GET /accounts/login/ (X-Forwarded-Proto: https): {status}")
        csp = headers.get("Content-Security-Policy", "")
        if "default-src 'self'" not in csp or "script-src 'self'" not in csp:
            raise CheckFailed(f"login page has no strict Content-Security-Policy: {csp!r}")
        if "max-age=" not in headers.get("Strict-Transport-Security", ""):
            raise CheckFailed("login page has no Strict-Transport-Security header")
        print("  Content-Security-Policy and Strict-Transport-Security present")

        # Plain HTTP (no proxy header) is sent to HTTPS.
        status, headers, _ = fetch(f"{base}/accounts/login/", {"Host": HOST})
        if status != 301 or not headers.get("Location", "").startswith(f"https://{HOST}/"):
            raise CheckFailed(f"plain HTTP was not redirected to HTTPS: {status} {headers.get('Location')}")
        print(f"GET /accounts/login/ over plain HTTP: {status} -> {headers['Location']}")

        # Every stylesheet and script the page names is the manifest's fingerprinted file.
        manifest = json.loads((Path(env["STATIC_ROOT"]) / "staticfiles.json").read_text())["paths"]
        linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', body.decode())
        if not linked:
            raise CheckFailed("login page links no static file")
        hashed = set(manifest.values())
        for url in linked:
            name = url.removeprefix("/static/")
            if name not in hashed:
                raise CheckFailed(f"login page links {url}, which is not a fingerprinted manifest name")
            status, headers, content = fetch(f"{base}{url}", https)
            if status != 200 or not content:
                raise CheckFailed(f"GET {url}: {status}")
            if "immutable" not in headers.get("Cache-Control", ""):
                raise CheckFailed(f"{url} is not served as immutable: {headers.get('Cache-Control')!r}")
        css = manifest["vendor/bootstrap/css/bootstrap.min.css"]
        if f"/static/{css}" not in linked:
            raise CheckFailed(f"login page does not link the fingerprinted Bootstrap CSS {css}")
        print(f"  {len(linked)} static files served under their manifest names, e.g. /static/{css}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    print("gunicorn stopped")


def main() -> int:
    python = sys.executable
    spec = dockerfile()
    with tempfile.TemporaryDirectory(prefix="policyhub-build-") as tmp_name:
        tmp = Path(tmp_name)
        env = build_env(spec, tmp)
        try:
            run_build(spec, env, python)
            # At run time: real-looking secrets, a database (migrated as compose's web service does).
            env["SECRET_KEY"] = secrets.token_urlsafe(64)
            env["ALLOWED_HOSTS"] = HOST
            env["DATABASE_URL"] = f"sqlite:///{tmp / 'var' / 'policyhub.sqlite3'}"
            env["CELERY_BROKER_URL"] = "filesystem://"
            print("migrate (temporary SQLite database)", flush=True)
            result = subprocess.run(  # noqa: S603 (fixed arguments)
                [python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise CheckFailed(f"migrate failed:\n{result.stdout}\n{result.stderr}")
            serve_and_check(spec, env, python, tmp)
        except CheckFailed as exc:
            print(f"BUILD CHECK FAILED: {exc}", file=sys.stderr)
            return 1
    print("Production build check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
