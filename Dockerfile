# Semantik web and worker image. Model export runs in the `models` job, not here, so the
# runtime image carries no torch.
FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --prefix=/install .

FROM python:3.11-slim AS runtime
ENV PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=semantik.settings DEBUG=false \
    DATA_DIR=/app/data MODEL_REPOSITORY=/models
RUN groupadd --gid 1000 semantik && useradd --uid 1000 --gid 1000 --create-home semantik
COPY --from=deps /install /usr/local
WORKDIR /app
COPY --chown=1000:1000 manage.py ./
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/api/health/livez', timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput && python manage.py ensure_admin && exec uvicorn semantik.asgi:application --host 0.0.0.0 --port 8080"]
