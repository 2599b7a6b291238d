"""Local stand-ins for the services tradehook talks to (exchanges, terminals), for the tests."""
