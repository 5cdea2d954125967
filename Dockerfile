# hipaa-gate shim image (Flask under gunicorn). OPA runs as a separate sidecar container
# (see docker-compose.yml and deploy/kubernetes/). Not built by CI: no Docker engine there.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 hipaa \
    && useradd --system --uid 10001 --gid hipaa --home-dir /app --shell /usr/sbin/nologin hipaa

COPY pyproject.toml README.md gunicorn.conf.py ./
COPY service ./service
# The element catalog is read at start-up to reject unknown elements.
COPY policies ./policies
RUN pip install . \
    && mkdir -p /var/log/hipaa-gate /var/lib/hipaa-gate/metrics \
    && chown hipaa:hipaa /var/log/hipaa-gate /var/lib/hipaa-gate/metrics

USER hipaa:hipaa

ENV HIPAA_GATE_BIND=0.0.0.0:8000 \
    HIPAA_GATE_OPA_URL=http://127.0.0.1:8181 \
    HIPAA_GATE_POLICY_DIR=/app/policies \
    HIPAA_GATE_DECISION_LOG=/var/log/hipaa-gate/decisions.jsonl \
    PROMETHEUS_MULTIPROC_DIR=/var/lib/hipaa-gate/metrics

EXPOSE 8000
# gunicorn.conf.py names the app (service.app:create_app()) and reads HIPAA_GATE_* settings.
# PROMETHEUS_MULTIPROC_DIR: /metrics sums every gunicorn worker's values (prometheus-client
# multiprocess mode); gunicorn.conf.py empties the directory at each start.
CMD ["gunicorn", "--config", "/app/gunicorn.conf.py"]
