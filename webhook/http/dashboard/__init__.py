"""The dashboard at `/`: plain HTML and a little JavaScript over the admin API, no build step.

`pages` (login, logout, the page), `session` (signed cookie and CSRF), `live` (server-sent
events); `templates/` and `static/` are package data.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIRECTORY = Path(__file__).parent / "static"
