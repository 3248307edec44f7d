"""WSGI entry point, served by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from martech.common import heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "martech.settings.local")

application = get_wsgi_application()
# Import every view now, as the process starts, rather than in its first request (which would
# otherwise wait seconds for them).
get_resolver().url_patterns  # noqa: B018
heap.settle()  # what is loaded now lives as long as the process
