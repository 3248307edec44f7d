"""The project agrees with itself: migrations, deploy checks, compose file, vendored assets."""

import ast
import hashlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from importlib import import_module
from importlib.util import find_spec
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command, get_commands

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
QUEUES = {q.name for q in settings.CELERY_TASK_QUEUES}


def _settings_env_names() -> set[str]:
    """Every environment variable the settings package reads through django-environ."""
    names = set()
    for path in (ROOT / "martech" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
            )
            first = node.args[0]
            if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    # The entry points choose the settings module from the environment.
    for path in (ROOT / "manage.py", ROOT / "martech" / "wsgi.py", ROOT / "martech" / "celery.py"):
        names.update(re.findall(r'os\.environ\.setdefault\("([A-Z_]+)"', path.read_text()))
    return names


SETTINGS_ENV = _settings_env_names()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def _production_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="martech.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        MARTECH_SUPPRESSION_KEYS=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="console.example.com",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/martech",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    return env


def test_deploy_checks_pass_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = _production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_openapi_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").stat().st_size > 1000


def test_compose_images_are_pinned_to_exact_versions():
    for name, service in SERVICES.items():
        image = service.get("image", "")
        assert image, f"{name} has no image"
        repo, _, tag = image.rpartition(":")
        assert repo, f"{name}: {image} names no repository"
        assert tag not in {"", "latest"}, f"{name}: {image} is not pinned"
        assert re.match(r"^\d+\.\d+(\.\d+)?", tag), f"{name}: {image} has no exact version"
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.M).group(1)
    assert re.match(r"^python:\d+\.\d+\.\d+-", base), base


def _app_services():
    return {n: s for n, s in SERVICES.items() if s.get("build")}


def _command(service) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_commands_exist_in_the_project():
    seen = set()
    for name, service in _app_services().items():
        argv = _command(service)
        program = argv[0]
        if program == "python":
            assert argv[1] == "manage.py"
            assert argv[2] in get_commands(), f"{name}: no management command {argv[2]}"
        elif program == "gunicorn":
            assert find_spec("gunicorn"), "gunicorn is not installed"
            module, _, attr = argv[1].partition(":")
            assert hasattr(import_module(module), attr), argv[1]
        elif program == "celery":
            assert argv[1:3] == ["-A", "martech"]
            assert hasattr(import_module("martech.celery"), "app")
            role = argv[3]
            assert role in {"worker", "beat"}, f"{name}: celery {role}"
            if role == "worker":
                queues = set(argv[argv.index("-Q") + 1].split(","))
                assert queues == QUEUES, f"{name} consumes {queues}, settings declare {QUEUES}"
        else:
            pytest.fail(f"{name}: unknown program {program}")
        seen.add(program)
    assert seen == {"python", "gunicorn", "celery"}


COMPOSE_ONLY = {"POSTGRES_PASSWORD", "MARTECH_DB_PASSWORD"}


def test_compose_sets_only_environment_variables_the_settings_read():
    example = [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    for name, service in _app_services().items():
        for variable in service.get("environment", {}):
            assert variable in SETTINGS_ENV, f"{name} sets {variable}, which no setting reads"
    for variable in example:
        # Compose itself reads these: the administrator's password (the postgres service and
        # its init script) and the console role's password (the DATABASE_URL compose builds).
        assert variable in SETTINGS_ENV or variable in COMPOSE_ONLY, variable
    required = {
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "DJANGO_ALLOWED_HOSTS",
        "MARTECH_SUPPRESSION_KEYS",
    }
    provided = set(example) | {
        v for s in _app_services().values() for v in s.get("environment", {})
    }
    assert required <= provided


def test_readme_documents_every_environment_variable_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in SETTINGS_ENV if f"`{name}`" not in readme)
    assert missing == []


def test_compose_has_healthchecks_on_postgres_and_redis_and_waits_for_them():
    for name in ("postgres", "redis"):
        assert SERVICES[name]["healthcheck"]["test"], name
    for name, service in _app_services().items():
        depends = service.get("depends_on", {})
        if name == "migrate":
            assert depends["postgres"]["condition"] == "service_healthy"
            assert depends["redis"]["condition"] == "service_healthy"
        else:
            assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_compose_runs_exactly_one_beat_and_no_embedded_beat_in_workers():
    beats = [
        n
        for n, s in _app_services().items()
        if _command(s)[:4] == ["celery", "-A", "martech", "beat"]
    ]
    assert beats == ["beat"]
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1
    for name, service in _app_services().items():
        argv = _command(service)
        assert "-B" not in argv, name
        assert "--beat" not in argv, name


def test_vendored_assets_match_their_manifest():
    vendor = ROOT / "static" / "vendor"
    manifest = json.loads((vendor / "MANIFEST.json").read_text())
    assert {"tabler", "htmx", "chartjs", "tabler-icons"} <= set(manifest)
    for folder, entry in manifest.items():
        assert re.match(r"^\d+\.\d+\.\d+$", entry["version"])
        for name, digest in entry["files"].items():
            data = (vendor / folder / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, f"{folder}/{name} changed"


def test_lock_file_pins_every_dependency():
    lock = (ROOT / "uv.lock").read_text()
    project = (ROOT / "pyproject.toml").read_text()
    for package in (
        "django",
        "djangorestframework",
        "celery",
        "psycopg",
        "drf-spectacular",
        "django-filter",
        "django-htmx",
        "django-environ",
        "pytest-django",
        "redis",
    ):
        assert f'name = "{package}"' in lock, package
        assert package in project
    assert re.search(r'name = "django"\nversion = "5\.2\.\d+"', lock)
