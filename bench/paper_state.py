"""What a paper order costs with a `state_file`, as the account's history grows.

The paper account (`plugins.mock`) writes what an order changed to its state file before the
order is answered. `python -m bench.paper_state` fills market orders on one paper account with
a state file in a temporary folder in the checkout (on a disk, as a server's would be, where
/tmp is memory on many systems), and prints the CPU per order (`time.process_time`, the
writes' thread included) and the wall time per order over a run of orders each time the
account remembers another `--step` orders, up to `plugins.paper_book.REMEMBERED`. With
`PYTHONPATH=OTHER_TREE` it measures that checkout's plugin, so that two trees are compared on
the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from plugins.mock import MockConfig, MockPlugin
from plugins.orders import Order
from plugins.paper_book import REMEMBERED

HERE = Path(__file__).resolve().parent


async def measure(step: int, run: int) -> list[tuple[int, float, float]]:
    """(orders remembered before the run, CPU ms per order, wall ms per order), every `step`
    orders; each run is `run` orders."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="paper-state-", dir=HERE.parent) as folder:
        plugin = MockPlugin("paper")
        await plugin.init(MockConfig.model_validate(
            {"delay_ms": 0, "state_file": Path(folder) / "paper.json"}))
        sent = 0

        async def orders(count: int) -> None:
            nonlocal sent
            for _ in range(count):
                side = "buy" if sent % 2 else "sell"
                await plugin.execute_order(Order.model_validate(
                    {"symbol": "BTCUSDT", "side": side, "quantity": 0.01,
                     "client_order_id": f"paper-{sent}"}))
                sent += 1

        while sent <= REMEMBERED:
            remembered = sent
            cpu, wall = time.process_time(), time.perf_counter()
            await orders(run)
            rows.append((remembered, (time.process_time() - cpu) / run * 1e3,
                         (time.perf_counter() - wall) / run * 1e3))
            await orders(step - run)
        await plugin.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=int, default=2_500)
    parser.add_argument("--run", type=int, default=200)
    args = parser.parse_args()
    for remembered, cpu_ms, wall_ms in asyncio.run(measure(args.step, args.run)):
        print(f"{remembered:>6} orders remembered: {cpu_ms:6.2f} ms CPU, {wall_ms:6.2f} ms wall "
              f"per order")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
