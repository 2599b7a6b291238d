"""What a person or a machine watches: signal events, Prometheus metrics, logs and notifications.
It imports no HTTP, decide or execute room."""
