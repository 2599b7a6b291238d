"""Who may send or administer: webhook signatures, source URLs, passphrases, client addresses and
allowlists, the admin token and dashboard sessions. It imports no journal and no HTTP room."""
