"""``hipaa-gate decide``: one request through the shim's own code path (validation, OPA, shaping,
decision log). Starts a local OPA from the bundle on a free port when ``HIPAA_GATE_OPA_URL`` is
unset. The decision JSON goes to stdout.

The file may be a bare request or a scenario fixture (``policy_tests/scenarios/*.json``,
``examples/requests/*.json``): its ``request`` is sent. By default nothing is recorded (a dry run:
the decision record goes nowhere, so no patient-ref key is needed and no file appears in the
working directory); ``--log FILE`` (or ``HIPAA_GATE_DECISION_LOG``) keeps the record, which needs
``HIPAA_GATE_PATIENT_REF_KEY`` or ``HIPAA_GATE_DEV_MODE=1``. Log lines, OPA's included, go to
stderr only with ``--verbose`` or when a record is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from typing import Any

from service import config
from service import log_config as logs
from service.opa.sidecar import free_port

NEEDS_KEY = (
    "decide --log keeps a decision record, whose patient_ref needs a key: set "
    "HIPAA_GATE_PATIENT_REF_KEY (16+ characters), or HIPAA_GATE_DEV_MODE=1 for the labelled "
    "development key. Without --log (and without HIPAA_GATE_DECISION_LOG) decide is a dry run "
    "and keeps no record."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        help="a request JSON file or a scenario fixture (its 'request' is used), or - for stdin",
    )
    parser.add_argument(
        "--log",
        metavar="FILE",
        default=None,
        help="append the decision record to FILE (default: HIPAA_GATE_DECISION_LOG if set, "
        "otherwise no record: a dry run)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show log lines (start-up, OPA's own log) on stderr",
    )
    parser.set_defaults(func=run)


def request_from(document: Any) -> tuple[Any, str | None]:
    """The request in ``document``: a scenario fixture's ``request``, else the document itself."""
    if (
        isinstance(document, dict)
        and isinstance(document.get("request"), dict)
        and "requester" not in document
    ):
        return document["request"], str(document.get("name") or "scenario")
    return document, None


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def run(args: argparse.Namespace) -> int:
    from service.opa.policy_data import PolicyDataError

    if args.file != "-" and not os.path.isfile(args.file):
        print(
            f"decide: {args.file} is not a file: give a request or scenario fixture JSON file "
            "(examples/requests/*.json), or - for standard input",
            file=sys.stderr,
        )
        return 2
    try:
        return decide_file(args.file, log_file=args.log, verbose=args.verbose)
    except PolicyDataError as exc:
        print(
            f"decide: refusing to build the policy bundle: {len(exc.problems)} problem(s) "
            "in the policy data (make check-data):",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2


def decide_file(path: str, *, log_file: str | None = None, verbose: bool = False) -> int:
    data = _read(path)
    with contextlib.suppress(ValueError):  # not JSON: sent as it is, the shim names the problem
        document = json.loads(data)
        body, scenario = request_from(document)
        if scenario is not None:
            data = json.dumps(body).encode("utf-8")
            if verbose:
                print(f"decide: sending the request of scenario {scenario}", file=sys.stderr)
    cfg = config.load()
    log_file = log_file or (cfg.decision_log if cfg.is_set("DECISION_LOG") else None)
    keep_record = log_file is not None
    if keep_record and cfg.patient_ref_key is None:
        print(f"decide: {NEEDS_KEY}", file=sys.stderr)
        return 2
    show_logs = verbose or keep_record
    with contextlib.ExitStack() as stack:
        if show_logs:
            logs.STDOUT_FD = 2  # keep stdout for the decision itself
            opa_log: Any = sys.stderr
        else:
            devnull = stack.enter_context(open(os.devnull, "wb"))
            logs.STDOUT_FD = devnull.fileno()
            opa_log = devnull
        logs.configure_logging()
        from service.app import create_app
        from service.server.launch import start_local_opa

        overrides: dict[str, object] = {"API_TOKENS": ()}
        if keep_record:
            overrides["DECISION_LOG"] = log_file
        else:
            # A dry run: the record is written to a private temporary file, removed at once, so
            # the development key it is keyed with pseudonymises nothing that is kept.
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="hipaa-gate-decide-"))
            overrides["DECISION_LOG"] = os.path.join(tmp, "dry-run.jsonl")
            overrides["DEV_MODE"] = True
            overrides["PATIENT_REF_KEY"] = None
        if not cfg.is_set("OPA_URL"):
            sidecar = start_local_opa(cfg, f"127.0.0.1:{free_port()}", log_to=opa_log)
            stack.callback(sidecar.stop)
            overrides["OPA_URL"] = sidecar.url
            overrides["POLICY_REVISION"] = sidecar.revision
        app = create_app(overrides)
        state = app.extensions["hipaa_gate"]
        stack.callback(state.log_sink.close)
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
