# hipaa-gate shim image (Flask under gunicorn). OPA runs as a separate sidecar container
# (see docker-compose.yml and deploy/kubernetes/). Built and run by CI with buildah on a local
# Debian base (`make image-test`, tests/image/); `docker build .` uses the official slim image.
#
# BASE_IMAGE: any Debian-family image with python3 (>= 3.11) and its venv module.
# PIP_CERT (build only): a CA bundle for pip where the network intercepts TLS; mount it into the
# build (`--volume /etc/ssl/certs:/etc/ssl/certs:ro`), nothing of it stays in the image.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

WORKDIR /app

RUN groupadd --system --gid 10001 hipaa \
    && useradd --system --uid 10001 --gid hipaa --home-dir /app --shell /usr/sbin/nologin hipaa

COPY pyproject.toml README.md gunicorn.conf.py ./
COPY service ./service
# The element catalog is read at start-up to reject unknown elements.
COPY policies ./policies
# A virtualenv: Debian's python refuses system-wide pip installs (PEP 668).
ARG PIP_CERT=
RUN if [ -n "$PIP_CERT" ]; then export PIP_CERT; else unset PIP_CERT; fi \
    && python3 -m venv "$VIRTUAL_ENV" \
    && pip install . \
    && rm -rf build ./*.egg-info /root/.cache \
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
