"""Running stored signals through the plugins: the executor, its attempts and reconciliation, and
the circuit breakers. It imports no HTTP room and no decide room."""
