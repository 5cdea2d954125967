"""The `hipaa-gate` command: `main` dispatches the subcommands; `decide` is a dry run."""
