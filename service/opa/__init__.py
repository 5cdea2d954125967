"""Talking to OPA: the data API client, the request -> input translation and its validation, the
policy bundle and the hardened sidecar process, and the policy data check."""
