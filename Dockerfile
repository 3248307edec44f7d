# MarTech Console image: the same code runs as web (gunicorn), worker and beat.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=martech.settings.production

WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# collectstatic needs settings but no services: give it throwaway values.
RUN DJANGO_SECRET_KEY=build-only MARTECH_SUPPRESSION_KEYS=build-only \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --uid 10001 --home /app martech \
 && mkdir -p /app/var && chown martech /app/var
USER martech
EXPOSE 8000
CMD ["gunicorn", "martech.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
