"""``hipaa-gate decide``: one request through the shim's own code path (validation, OPA, shaping,
decision log). Starts a local OPA from the bundle on a free port when ``HIPAA_GATE_OPA_URL`` is
unset. The decision JSON goes to stdout; log lines go to stderr."""

from __future__ import annotations

import contextlib
import json
import os
import sys

from service import logs
from service.sidecar import free_port


def decide_file(path: str) -> int:
    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()  # noqa: SIM115
    logs.STDOUT_FD = 2  # keep stdout for the decision itself
    logs.configure_logging()
    from service.app import create_app
    from service.serve import start_local_opa

    overrides: dict[str, object] = {"API_TOKENS": ()}
    with contextlib.ExitStack() as stack:
        if not os.environ.get("HIPAA_GATE_OPA_URL"):
            sidecar = start_local_opa(f"127.0.0.1:{free_port()}", log_to=sys.stderr)
            stack.callback(sidecar.stop)
            overrides["OPA_URL"] = sidecar.url
            overrides["POLICY_REVISION"] = sidecar.revision
        app = create_app(overrides)
        with app.test_client() as client:
            resp = client.post(
                "/v1/disclosures/decide", data=data, headers={"Content-Type": "application/json"}
            )
    body = resp.get_json(silent=True)
    sys.stdout.write(json.dumps(body, indent=2) + "\n")
    sys.stdout.flush()
    if resp.status_code != 200:
        return 2
    return 0 if body.get("allow") is True else 1
