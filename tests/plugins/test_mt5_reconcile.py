"""Finding a signal's orders again when the server shortened or rewrote their comments, when a
reply hung past the timeout, and after a restart, when only the broker's books are left.

`lookup_order` answers None only when the terminal certainly holds nothing for the signal (the
executor then sends it again); where it cannot be sure it raises.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from plugins.errors import OutcomeUnknown, TemporaryError
from plugins.mt5 import MT5Plugin
from plugins.orders import ExecutionResult, ExecutionStatus, Order
from tests.plugins.mt5_fixtures import SIGNAL_ID, FakeMT5, fake_mt5, mt5_server, started_mt5

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio
BUY = Order(symbol="EURUSD", side="buy", quantity=0.1, client_order_id=SIGNAL_ID)
NEIGHBOUR = "01JDQ3F6Z8X2K9M4N7P5R0S1T3"  # same millisecond, same first 13 characters


def deals(fake: FakeMT5) -> int:
    return len(fake.state()["deals"])


async def settled(plugin: MT5Plugin, client_order_id: str) -> ExecutionResult | None:
    """What the executor's reconciliation does: ask until the answer is no longer "later"."""
    for _ in range(100):
        with contextlib.suppress(TemporaryError):
            return await plugin.lookup_order(client_order_id, "EURUSD")
        await asyncio.sleep(0.05)
    raise AssertionError(f"the lookup of {client_order_id} never settled")


async def test_a_lost_reply_is_found_when_the_server_shortened_the_comment(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set(comment_limit=16)
    fake_mt5.fake_lose_next_reply(execute=True)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(BUY)
        again = await plugin.execute_order(BUY)  # the executor's resend, had it been unsure
    assert result.status is ExecutionStatus.FILLED and result.filled_quantity == 0.1
    assert again.order_id == result.order_id
    assert deals(fake_mt5) == 1 and len(fake_mt5.state()["requests"]) == 1


async def test_after_a_restart_a_shortened_comment_is_found_by_its_prefix(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set(comment_limit=16)
    async with started_mt5(fake_mt5) as plugin:
        placed = await plugin.execute_order(BUY)
    async with started_mt5(fake_mt5) as restarted:
        found = await restarted.lookup_order(SIGNAL_ID, "EURUSD")
        missing = await restarted.lookup_order("01JZZZZZZZZZZZZZZZZZZZZZZZ", "EURUSD")
    assert found is not None and found.order_id == placed.order_id
    assert missing is None


async def test_after_a_restart_a_shortened_comment_two_signals_share_is_unknown(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set(comment_limit=16)
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(BUY)
        await plugin.execute_order(BUY.model_copy(update={"client_order_id": NEIGHBOUR}))
    async with started_mt5(fake_mt5) as restarted:
        with pytest.raises(OutcomeUnknown, match="shortened to 16 characters"):
            await restarted.lookup_order(SIGNAL_ID, "EURUSD")
    assert deals(fake_mt5) == 2


async def test_the_tickets_of_replies_find_orders_whose_comments_the_server_rewrote(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set(comment_rewrite="replace")
    async with started_mt5(fake_mt5) as plugin:
        placed = await plugin.execute_order(BUY)
        found = await plugin.lookup_order(SIGNAL_ID, "EURUSD")
        again = await plugin.execute_order(BUY)
    assert found is not None and found.order_id == placed.order_id
    assert again.order_id == placed.order_id and deals(fake_mt5) == 1


async def test_after_a_restart_rewritten_comments_make_a_lookup_unknown_not_none(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set(comment_rewrite="replace")
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(BUY)
    async with started_mt5(fake_mt5) as restarted:
        with pytest.raises(OutcomeUnknown, match="comments the server rewrote"):
            await restarted.lookup_order(SIGNAL_ID, "EURUSD")


async def test_comments_the_server_added_to_still_match(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_set(comment_rewrite="suffix")
    async with started_mt5(fake_mt5) as plugin:
        placed = await plugin.execute_order(BUY)
    async with started_mt5(fake_mt5) as restarted:
        found = await restarted.lookup_order(SIGNAL_ID, "EURUSD")
    assert found is not None and found.order_id == placed.order_id


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_a_reply_that_hangs_past_the_timeout_settles_to_one_deal(fake_mt5: FakeMT5) -> None:
    """The server rewrites comments, so only the late reply can name the order: the lookup
    says "later" (TemporaryError) until it comes, never "nothing"."""
    fake_mt5.fake_set(comment_rewrite="replace")
    fake_mt5.fake_hang_next(1.5)
    async with started_mt5(fake_mt5, request_timeout=0.4, reconcile_timeout=0.2) as plugin:
        with pytest.raises(OutcomeUnknown, match="no reply in 0.4s"):
            await plugin.execute_order(BUY)
        with pytest.raises(TemporaryError, match="has not answered"):
            await plugin.lookup_order(SIGNAL_ID, "EURUSD")
        found = await settled(plugin, SIGNAL_ID)
        again = await plugin.execute_order(BUY)
    [deal] = fake_mt5.state()["deals"]
    assert found is not None and found.order_id == str(deal["order"])
    assert again.order_id == found.order_id and len(fake_mt5.state()["requests"]) == 1


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_reads_after_a_hanging_send_do_not_wait_behind_it(fake_mt5: FakeMT5) -> None:
    """A classic rpyc connection answers one call at a time: the plugin reads over another."""
    fake_mt5.fake_hang_next(3.0)
    async with started_mt5(fake_mt5, request_timeout=0.4, reconcile_timeout=1.0) as plugin:
        result = await plugin.execute_order(BUY)  # found by its comment while the reply hangs
    assert result.status is ExecutionStatus.FILLED and deals(fake_mt5) == 1


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_a_terminal_unreadable_after_a_send_is_an_unknown_outcome(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_hang_next(1.0)
    async with started_mt5(fake_mt5, request_timeout=0.3, reconcile_timeout=0.2) as plugin:
        session = plugin._session
        assert session is not None
        session.config = session.config.model_copy(update={"port": 1})  # the bridge is gone
        with pytest.raises(OutcomeUnknown, match="reading the terminal failed"):
            await plugin.execute_order(BUY)
