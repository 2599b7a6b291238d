"""Row e of `make bench` alone, for work on the PostgreSQL journal, for several source trees in
turns: `python -m bench.postgres_row --tree ../main --tree . --rounds 2` is
`python -m bench.side_by_side --row e ...` (kept for the commands `bench/RESULTS.md` records)."""

from __future__ import annotations

import sys

from bench.side_by_side import main

if __name__ == "__main__":
    sys.argv[1:1] = ["--row", "e"]
    raise SystemExit(main())
