"""The embedded default (`make run`: SQLite, filesystem broker, web + worker + beat) as real
processes, for tests of how it runs and stops. Each gets its own var folder and port."""

import contextlib
import copy
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# `make` must not reinstall the shared virtualenv (its stamp may be older than a fresh checkout).
MAKE = ["make", "--no-print-directory", "-o", f"{BIN}/.installed", f"BIN={BIN}"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(var_dir: Path, **extra) -> dict[str, str]:
    """The developer's environment for `make run`: nothing set but the var folder (and a port)."""
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("PYTEST", "MAKE"))}
    env.update(POLICYHUB_VAR_DIR=str(var_dir), POLICYHUB_ENV="development", PYTHONUNBUFFERED="1", **extra)
    return env


def manage(env, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def prepared_var(directory: Path) -> Path:
    """A var folder with a migrated, seeded SQLite database (what `make seed` leaves)."""
    var_dir = directory / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = embedded_env(var_dir)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    return var_dir


def copy_var(template: Path, directory: Path) -> Path:
    var_dir = directory / "var"
    shutil.copytree(template, var_dir)
    return var_dir


def get(url: str, timeout=5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wait_until(predicate, timeout: float, interval=0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Stack:
    """`make run` in its own session (as in a terminal: one foreground process group)."""

    def __init__(self, var_dir: Path, port: int, log_path: Path, command=("run",)):
        self.var_dir, self.port, self.log_path = var_dir, port, log_path
        self.env = embedded_env(var_dir, PORT=str(port))
        self.command = [*MAKE, *command, f"PORT={port}"]
        self.process = None
        self.seen: dict[int, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def login_page_answers(self) -> bool:
        try:
            return get(f"{self.url}/accounts/login/", timeout=2) == 200
        except OSError:
            return False

    def wait_ready(self, timeout=120):
        ready = wait_until(
            lambda: (
                self.process.poll() is None
                and re.search(r"celery@\S+ ready\.", self.text()) is not None
                and "beat: Starting" in self.text()
                and self.login_page_answers()
            ),
            timeout,
            interval=0.5,
        )
        assert ready, f"make run did not come up:\n{self.text()[-5000:]}"
        self.seen = self.processes()  # for clean-up: once Ctrl-C'd, they are no longer descendants

    def processes(self) -> dict[int, str]:
        """Every descendant of `make run` (pid → its start time, so a reused pid is not confused)."""
        return descendants(self.process.pid)

    def ctrl_c(self):
        """What a terminal does on Ctrl-C: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, 2)

    def kill(self):
        """Test clean-up only: whatever is left, gone."""
        for pid in [*alive(self.seen), *self.processes(), self.process.pid]:
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        self.process.wait(timeout=10)
        self.log.close()


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return [text[: text.index(" ")], "comm", *text[text.rindex(")") + 2 :].split()]


def descendants(root: int) -> dict[int, str]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[3]), []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            fields = _stat(child)
            if fields:
                found[child] = fields[21]  # start time
                todo.append(child)
    return found


def alive(processes: dict[int, str]) -> dict[int, str]:
    """Those still running: same pid and start time, and not a zombie (exited, awaiting reaping)."""
    left = {}
    for pid, started in processes.items():
        fields = _stat(pid)
        if fields and fields[21] == started and fields[2] != "Z":
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            left[pid] = cmdline.strip()
    return left


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.text = status, headers, body.decode(errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Client:
    """A browser's worth of HTTP: cookies kept, CSRF token sent, redirects not followed."""

    def __init__(self, base: str, cookies=()):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        for cookie in cookies:
            self.jar.set_cookie(copy.copy(cookie))
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def copy(self) -> "Client":
        """Another tab of the same browser: same session, its own cookie jar from now on."""
        return Client(self.base, list(self.jar))

    def cookie(self, name: str) -> str:
        return next((c.value for c in self.jar if c.name == name), "")

    def request(self, path: str, data: dict | None = None, timeout=60) -> Response:
        url = path if path.startswith("http") else self.base + path
        body = None
        if data is not None:
            if not self.cookie("csrftoken"):
                self.request("/accounts/login/")  # any form page sets the CSRF cookie
            fields = [(k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])]
            body = urllib.parse.urlencode([("csrfmiddlewaretoken", self.cookie("csrftoken")), *fields]).encode()
        request = urllib.request.Request(url, data=body)  # noqa: S310 (loopback)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return Response(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.headers, exc.read())

    def follow(self, response: Response) -> Response:
        while response.status in (301, 302, 303):
            response = self.request(response.location)
        return response

    def sign_in(self, email: str, password: str, totp_key: str | None = None) -> None:
        self.request("/accounts/login/")
        response = self.request("/accounts/login/", {"username": email, "password": password})
        assert response.status == 302, f"sign-in of {email} refused ({response.status})"
        if totp_key is not None:
            from django_otp.oath import totp

            code = f"{totp(bytes.fromhex(totp_key)):06d}"
            response = self.request("/accounts/two-factor/verify/", {"code": code})
            assert response.status == 302, f"two-factor code of {email} refused ({response.status})"
        home = self.follow(self.request("/"))
        assert home.status == 200 and "Sign out" in home.text, f"{email} is not signed in"


# Run in the embedded stack's environment with `manage.py shell`: a fresh report from staff at
# Oakfield, and an authenticator for the Oakfield head, whose key the test knows.
CASE_SETUP = """
from datetime import timedelta
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import School, User
from incidents import services
school = School.objects.get(slug="oakfield")
head = User.objects.get(email="head.oakfield@example.org")
if not TOTPDevice.objects.filter(user=head, confirmed=True).exists():
    TOTPDevice.objects.create(user=head, name="Authenticator app", confirmed=True, key="{key}")
for _ in range({count}):
    incident = services.incident_report(
        reporter=User.objects.get(email="staff.oakfield@example.org"), school=school, category="parent_post",
        platform="facebook", description="A parent posted photos of other children.",
        seen_at=timezone.now() - timedelta(hours=1), involved="parent", child_at_risk=False,
    )
    print(incident.reference)
"""


def new_cases(env, count: int) -> list[str]:
    """New reported cases at Oakfield (their references, which their addresses use)."""
    output = manage(env, "shell", "-v0", "-c", CASE_SETUP.format(key=HEAD_TOTP_KEY, count=count)).stdout
    return output.split()[-count:]


def new_case(env) -> str:
    return new_cases(env, 1)[0]


HEAD = "head.oakfield@example.org"
STAFF = ("staff.oakfield@example.org", "staff.brookside@example.org")
HEAD_TOTP_KEY = "3132333435363738393031323334353637383930"
