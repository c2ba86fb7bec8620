"""The service core every front end calls (gRPC, HTTP, khulasa-bulk): the loaded pipeline, the
request checks, the per-client limit, auth by token and the description of errors. Nothing here
knows a wire format: no module of this package imports gRPC or an HTTP library (tests/test_core.py
checks), so an adapter maps its requests to these calls and the errors back, and nothing else."""
