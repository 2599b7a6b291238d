"""Finding what a signal made on the terminal: by the tickets replies gave, then by comment.

The tickets `order_send` returned are the sure key, and the session keeps them while the
process lives. After a restart only the broker's books are left: deals and orders of the
history window (`history_deals_get`, `history_orders_get`), resting orders and, on a hedging
account, positions, all filtered by the plugin's magic number, and matched by comment. Servers
may keep fewer characters of a comment than were sent, or add to it: a stored comment that is a
prefix of ours (at least `MIN_PREFIX` characters), or ours followed by a space or a bracket,
counts as ours. Where such a loose match cannot tell two signals apart, or an order of ours
carries a comment the server rewrote beyond recognition, the finder says so (`Doubt`) instead
of answering "nothing": nothing means it is safe to send again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from plugins.mt5 import retcodes
from plugins.mt5.records import Deal, HistoryOrder, PendingOrder, Position, SendResult
from plugins.mt5.symbols import COMMENT_PREFIX

MIN_PREFIX = len(COMMENT_PREFIX) + 8
_ONE_REQUEST_SPAN = 10  # seconds: the deals of one close are sent back to back
_ENDED_UNFILLED = {2, 5, 6}  # ORDER_STATE_CANCELED, _REJECTED, _EXPIRED
_NOT_OURS_REASONS = {4, 5, 6}  # DEAL_REASON_SL, _TP, _SO: made by the server, not by a request


class Match:
    EXACT = "exact"
    LOOSE = "loose"


def match(stored: str, comment: str) -> str | None:
    """EXACT, LOOSE (shortened or added to by the server), or None. A stored comment that
    stops where our suffix begins is the signal's opening order, not a cut of its close."""
    if stored == comment:
        return Match.EXACT
    cut = comment[len(stored):]
    if len(stored) >= MIN_PREFIX and comment.startswith(stored) and not cut.startswith(":"):
        return Match.LOOSE
    if stored.startswith(comment) and stored[len(comment)] in " [(#":
        return Match.LOOSE
    return None


@dataclass
class Books:
    """What the terminal holds with our magic, as the finder reads it."""

    deals: list[Deal] = field(default_factory=list)
    history: list[HistoryOrder] = field(default_factory=list)
    pending: list[PendingOrder] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)


@dataclass
class Doubt:
    """Orders that may be this signal's, though the finder cannot be sure."""

    why: str


def select(
    books: Books, comment: str, tickets: set[int], closing: bool, hedging: bool
) -> SendResult | Doubt | None:
    """Ours among `books`: orders in `tickets`, or a comment that matches. `closing`: the
    comment is a close's (its deals reduce positions)."""
    deals, loose_orders = [], set()
    for deal in books.deals:
        kind = Match.EXACT if deal.order in tickets else match(deal.comment, comment)
        if kind is None or deal.reason in _NOT_OURS_REASONS:
            continue
        if kind is Match.LOOSE:
            if (deal.entry != 0) is not closing:  # a cut comment may have lost ":x"
                continue
            loose_orders.add(deal.order)
        deals.append(deal)
    if loose_orders and _ambiguous(deals, loose_orders, closing):
        return Doubt(
            f"orders {sorted(loose_orders)} carry comments the server shortened to "
            f"{min(len(d.comment) for d in deals)} characters, which more than one signal may "
            "share"
        )
    if deals:
        volume = sum(d.volume for d in deals)
        price = sum(d.price * d.volume for d in deals) / volume if volume else 0.0
        last = deals[-1]
        asked = {o.ticket: o.volume_initial for o in books.history}.get(last.order, 0.0)
        done = retcodes.DONE_PARTIAL if not closing and volume < asked - 1e-9 else retcodes.DONE
        return SendResult(done, last.ticket, last.order, volume, price, comment)
    resting = [o for o in books.pending if o.ticket in tickets or
               (not closing and match(o.comment, comment))]  # fmt: skip
    ended = [o for o in books.history if o.ticket in tickets or (
        match(o.comment, comment) and _closes(o) is closing)]  # fmt: skip
    loose = {o.ticket for o in resting if o.ticket not in tickets
             and match(o.comment, comment) is Match.LOOSE}  # fmt: skip
    loose |= {o.ticket for o in ended if o.ticket not in tickets
              and match(o.comment, comment) is Match.LOOSE}  # fmt: skip
    if len(loose) > 1 and not closing:
        return Doubt(f"orders {sorted(loose)} carry comments the server shortened, which more "
                     "than one signal may share")  # fmt: skip
    if resting:
        return SendResult(retcodes.PLACED, 0, resting[0].ticket, 0.0, 0.0, comment)
    for old in ended:
        if old.state in _ENDED_UNFILLED:
            return SendResult(retcodes.CANCEL, 0, old.ticket, 0.0, 0.0, comment)
        return Doubt(f"order {old.ticket} is in the history but none of its deals is yet")
    if hedging and not closing:
        for held in books.positions:
            if held.ticket in tickets or match(held.comment, comment):
                return SendResult(
                    retcodes.DONE, held.ticket, held.ticket, held.volume, held.price_open, comment
                )
    return None


def _closes(order: HistoryOrder) -> bool:
    """A history order that closed a position (it names one other than its own)."""
    return order.position_id not in (0, order.ticket)


def _ambiguous(deals: list[Deal], loose_orders: set[int], closing: bool) -> bool:
    if not closing:
        return len(loose_orders) > 1
    times = [d.time for d in deals if d.order in loose_orders]
    return max(times) - min(times) > _ONE_REQUEST_SPAN


def unattributable(books: Books, symbol: str | None) -> Doubt | None:
    """Orders of ours whose comments are not ours any more (the server replaced them): one of
    them may be the order looked for."""
    strangers = sorted({
        o.ticket for o in books.history
        if not o.comment.startswith(COMMENT_PREFIX) and o.reason not in _NOT_OURS_REASONS
        and (symbol is None or o.symbol == symbol)
    })  # fmt: skip
    if not strangers:
        return None
    return Doubt(
        f"orders {strangers[:5]} carry our magic number but comments the server rewrote, so "
        "one of them may be this signal's"
    )


def window(lookup_days: int) -> tuple[int, int]:
    """The history searched: `lookup_days` back, and two days ahead (the server's clock is
    the broker's time zone, often hours ahead of UTC)."""
    now = int(time.time())
    return now - lookup_days * 86_400, now + 2 * 86_400
