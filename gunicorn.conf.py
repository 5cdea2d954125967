"""gunicorn configuration for hipaa-gate; the settings live in ``service/gunicorn_config.py``."""

from service.gunicorn_config import *  # noqa: F403
