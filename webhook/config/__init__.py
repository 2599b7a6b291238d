"""The configuration: the settings model, the loader (TOML, environment, secrets file) and the
first run. It imports no other room of `webhook` but the errors and the observe room's targets."""
