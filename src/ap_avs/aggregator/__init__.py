"""The aggregator daemon: gRPC API for clients and operators, HTTP status side server."""
