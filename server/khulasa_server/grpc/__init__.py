"""The gRPC adapter: the servicer (service.py, one line per RPC over the core), what wraps every
RPC (interceptors.py), bearer tokens and TLS (security.py), lenient request parsing (wire.py) and
DigestMany's completion order (streams.py). It maps messages to the core's calls and the core's
errors to statuses; nothing else."""
