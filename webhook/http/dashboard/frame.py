"""What every page of a logged-in session shares: the head (stylesheets and scripts), the
header with the links to the other pages, the live badge and the logout form.

A page's own template (`templates/index.html`, ...) holds only its `<main>`; `FRAMES` says per
page what goes around it. Only the session's CSRF token is a value from outside, and it is
escaped; the rest of the frame is this module's own constants.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

PAGES = (("/", "Signals"), ("/trading", "Positions & P&L"), ("/builder", "Alert builder"))
"""The links of the header, in order: (path, label)."""
LIVE_BADGE = '  <span id="live" class="badge off" title="live updates">connecting</span>\n'


@dataclass(frozen=True)
class Frame:
    """One page's frame: its title, its path among `PAGES`, its own stylesheets and scripts
    (besides `dashboard.css` and `common.js`), and whether it follows the live stream."""

    title: str
    path: str
    styles: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    live: bool = True

    def values(self, csrf: str) -> dict[str, str]:
        """The values of `templates/session.html` for this page."""
        styles = ("/static/dashboard.css", *self.styles)
        scripts = (*self.scripts[:-1], "/static/common.js", *self.scripts[-1:])
        assets = [f'<link rel="stylesheet" href="{href}">' for href in styles]
        assets += [f'<script src="{src}" defer></script>' for src in scripts]
        current = ' aria-current="page"'
        nav = "".join(f'<a href="{path}"{current if path == self.path else ""}>'
                      f"{html.escape(label)}</a>" for path, label in PAGES)
        return {"title": html.escape(self.title), "assets": "\n".join(assets), "nav": nav,
                "live": LIVE_BADGE if self.live else "", "csrf": html.escape(csrf)}


FRAMES = {
    "index.html": Frame("tradehook", "/", scripts=("/static/dashboard.js",)),
    "trading.html": Frame(
        "tradehook: positions & P&L", "/trading", styles=("/static/trading.css",),
        scripts=("/static/vendor/lightweight-charts.standalone.production.js",
                 "/static/trading.js"),
    ),
    "builder.html": Frame("tradehook: alert builder", "/builder",
                          styles=("/static/builder.css",), scripts=("/static/builder.js",),
                          live=False),
}
"""The frame of each page template. The page's own script comes last, after `common.js`;
scripts before it (the charts library) load first."""
