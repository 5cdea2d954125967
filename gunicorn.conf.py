"""gunicorn configuration for hipaa-gate; the settings live in ``service/server/gunicorn_settings.py``."""

import os

# prometheus-client multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by the image): importing
# ``service`` already opens a metrics file there, so the directory must exist first.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from service.server.gunicorn_settings import *  # noqa: F403
from service.server.gunicorn_settings import on_starting as _on_starting
from service.metrics import prepare_multiprocess_dir


def on_starting(server):
    """Once per master start (not on a reload): drop a previous run's metrics files."""
    prepare_multiprocess_dir()
    _on_starting(server)
