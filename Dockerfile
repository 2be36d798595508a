# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH="/opt/venv/bin:$PATH"

# DejaVu Sans: the PDFs embed it so names print in any alphabet (worker/pdf/fonts.py).
RUN apt-get update -q && apt-get install -y -q --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv \
 && useradd --create-home --uid 1000 clinic

WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev \
 && DEBUG=1 DATABASE_URL=postgresql://build@localhost/build python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R clinic:clinic /app/var

USER clinic
EXPOSE 8000
CMD ["gunicorn", "backend.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--logger-class", "backend.logscrub.ScrubbingGunicornLogger"]
