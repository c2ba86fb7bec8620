"""The service every front end calls (gRPC, HTTP with LibreTranslate's API, khulasa-bulk): the
operations with their request checks (core.py, inputs.py), the call record of each request
(calls.py), the calls in flight per client (inflight.py) and the settings (config.py). Nothing
here knows a wire format: no module of this package imports gRPC or an HTTP library
(tests/test_layers.py checks), so an adapter maps its requests to these calls and the errors
back, and nothing else."""
