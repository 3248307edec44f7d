"""Production: PostgreSQL, Redis, gunicorn behind a TLS-terminating proxy.

``DJANGO_SECRET_KEY``, ``MARTECH_SUPPRESSION_KEYS``, ``DATABASE_URL``, ``CELERY_BROKER_URL``
and ``DJANGO_ALLOWED_HOSTS`` must be set; there are no defaults for them here.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("DJANGO_SECRET_KEY")
SUPPRESSION_KEYS = env.list("MARTECH_SUPPRESSION_KEYS", default=[])
if not SUPPRESSION_KEYS:
    raise ImproperlyConfigured(
        "Set the MARTECH_SUPPRESSION_KEYS environment variable: the key of the erasure "
        "suppression list's hashes (32 or more random characters), kept apart from the database."
    )
DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL")

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Health probes come from inside the cluster over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
