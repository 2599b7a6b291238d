"""Rows a and b of `make bench` alone, for work on the receive path, for several source trees in
turns: `python -m bench.signal_rows --tree ../main --tree . --rounds 2 --receive-only` is
`python -m bench.side_by_side --row b ...` (kept for the commands `bench/RESULTS.md` records)."""

from __future__ import annotations

import sys

from bench.side_by_side import main

if __name__ == "__main__":
    sys.argv[1:1] = ["--row", "b"]
    raise SystemExit(main())
