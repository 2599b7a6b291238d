"""The receiving side of tradehook: HTTP endpoints, authentication, alert dialects, policy,
the journal, the executor, settings and the command line. It uses `plugins`, never the reverse."""
