"""docker-compose.yml cannot be run here (no Docker engine), so check what can be checked:
it parses, has the five services, and runs the same commands as the Makefile."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _make_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:[^\n]*\n\t([^\n]+)", text, re.M)
    assert match, f"Makefile has no {target} target"
    return match.group(1).replace("$(BIN)/", "").strip()


def test_compose_has_web_worker_beat_postgres_and_redis():
    assert set(COMPOSE["services"]) == {"web", "worker", "beat", "postgres", "redis"}


def test_worker_and_beat_run_the_makefile_commands():
    assert COMPOSE["services"]["worker"]["command"] == _make_recipe("worker")
    assert COMPOSE["services"]["beat"]["command"] == _make_recipe("beat")


def test_web_migrates_then_serves_with_the_makefile_command():
    command = COMPOSE["services"]["web"]["command"]
    assert "manage.py migrate --noinput" in command
    assert command.rstrip('"').endswith(_make_recipe("serve"))


def test_app_services_share_settings_uploads_and_wait_for_healthy_services():
    for name in ("web", "worker", "beat"):
        service = COMPOSE["services"][name]
        assert service["environment"]["POLICYHUB_ENV"] == "production"
        assert service["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:")
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert "uploads:/var/lib/policyhub/media" in service["volumes"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["restart"] == "unless-stopped"


def test_health_checks_and_durable_redis():
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert COMPOSE["services"][name]["healthcheck"]["test"]
    redis_command = COMPOSE["services"]["redis"]["command"]
    assert "--appendonly yes" in redis_command
    assert "--maxmemory-policy noeviction" in redis_command


def test_web_health_check_asks_healthz_with_python_not_curl():
    """tests/policyhub/test_liveness.py runs this very command against a live server, fresh and stale."""
    test = COMPOSE["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "urllib.request" in test[3] and "http://127.0.0.1:8000/healthz" in test[3]


def test_worker_and_beat_health_checks_read_the_liveness_row_with_the_healthz_age():
    from policyhub.liveness import MAX_AGE

    for name in ("worker", "beat"):
        check = COMPOSE["services"][name]["healthcheck"]
        assert check["test"] == [
            "CMD",
            "python",
            "manage.py",
            "liveness",
            "--max-age",
            str(int(MAX_AGE.total_seconds())),
        ]
        assert check["start_period"]  # the first sweep after a restart comes within a minute


def test_exactly_one_beat():
    assert COMPOSE["services"]["beat"]["deploy"]["replicas"] == 1


def test_every_compose_variable_is_documented_in_env_example():
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert used <= documented
