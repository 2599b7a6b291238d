"""The HTTP room: signal endpoints, the admin API, the dashboard, and `answers`, the one place
errors become HTTP answers. It may import every other room; no other room imports it."""
