"""Embedded defaults: SQLite, the file-system Celery transport, no server to install.

This is what ``make run`` uses; it is the real product on a laptop.
"""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The file-system transport has no server; naming "localhost" spares kombu's warning about it.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost//")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(VAR_DIR / "broker" / "queue"),
    "data_folder_out": str(VAR_DIR / "broker" / "queue"),
    "control_folder": str(VAR_DIR / "broker" / "control"),
    "processed_folder": str(VAR_DIR / "broker" / "processed"),
    "store_processed": False,
}
# The embedded demo's warehouse and vendor fakes are on this machine.
MARTECH_EGRESS_ALLOW = env.list("MARTECH_EGRESS_ALLOW", default=["127.0.0.0/8", "::1", "localhost"])
CONSOLE_ENVIRONMENT_LABEL = env("MARTECH_ENVIRONMENT_LABEL", default="Embedded demo")
# The demo's people sign in with the demo password alone unless a second factor is asked for;
# anyone may still set one up on their account page.
MARTECH_MFA_REQUIRED = env.bool("MARTECH_MFA_REQUIRED", default=False)


def _embedded_secret_key() -> str:
    """A key made once per installation and kept under var/, unless one is configured."""
    configured = env("DJANGO_SECRET_KEY", default="")
    if configured:
        return configured
    import secrets

    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _embedded_secret_key()


def _embedded_suppression_keys() -> list[str]:
    """The suppression list's keys, newest first: configured, or made once per installation
    and kept under var/ (one a line)."""
    configured = env.list("MARTECH_SUPPRESSION_KEYS", default=[])
    if configured:
        return configured
    import secrets

    path = VAR_DIR / "suppression_keys"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48) + "\n")
        path.chmod(0o600)
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


SUPPRESSION_KEYS = _embedded_suppression_keys()
