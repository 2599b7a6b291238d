"""Sending trade requests, and settling the ones whose answer did not come.

A reply names the order (and deal) the server made: those tickets are kept for as long as the
process runs, and are the surest way to find the signal's orders again. A reply that does not
come within `request_timeout` over rpyc is not given up: its connection is set aside (the
bridge is still inside `order_send`, and a classic rpyc connection answers one call at a time),
the session goes on over a new connection, and the late reply is taken whenever it arrives.
Every doubt after a request may have left is `OutcomeUnknown`, never `TemporaryError`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
from plugins.mt5 import finder, retcodes
from plugins.mt5.finder import Books, Doubt
from plugins.mt5.records import Deal, HistoryOrder, PendingOrder, Position, SendResult
from plugins.mt5.session import MT5Session
from plugins.mt5.symbols import EXIT_SUFFIX, REVERSE_EXIT_SUFFIX
from plugins.mt5.transports import PendingSend, Terminal

log = logging.getLogger(__name__)

# last_error codes meaning the request never left the terminal
_NOT_SENT = {-2: "invalid arguments", -8: "algorithmic trading is disabled in the terminal"}
_RECONCILE_PAUSE = 0.1


@dataclass
class _Unanswered:
    pending: PendingSend
    terminal: Terminal
    fields: dict[str, Any]
    what: str


class OrderSender:
    def __init__(self, session: MT5Session) -> None:
        self.session = session
        self.tickets: dict[str, set[int]] = {}
        """Order tickets by comment, from the replies (and finds) of this process."""
        self._unanswered: dict[str, _Unanswered] = {}

    def send(self, fields: dict[str, Any], what: str) -> SendResult:
        """Send one trade request. Returns results with a succeeding retcode, raises for the
        others; a lost answer is looked for before it counts as unknown."""
        s = self.session
        terminal = s.live()
        try:
            pending = terminal.start_send(fields, SendResult.names())
            answered = pending.wait(s.config.request_timeout)
        except terminal.link_errors as exc:
            log.warning("MetaTrader 5 link failed while sending %s: %r", what, exc)
            s.detach()
            terminal.close()
            return self._reconcile(fields, what, f"link failed: {exc!r}")
        if not answered:
            log.warning("MetaTrader 5 gave no reply to %s within %gs", what,
                        s.config.request_timeout)  # fmt: skip
            s.detach()
            comment = str(fields.get("comment", ""))
            if comment:
                self._unanswered[comment] = _Unanswered(pending, terminal, fields, what)
            else:
                terminal.close()
            return self._reconcile(fields, what, f"no reply in {s.config.request_timeout:g}s")
        return self._answered(pending, fields, what)

    def _answered(self, pending: PendingSend, fields: dict[str, Any], what: str) -> SendResult:
        try:
            row, error = pending.value()
        except Exception as exc:  # noqa: BLE001 - the bridge failed inside order_send
            raise OutcomeUnknown(
                f"MetaTrader 5 failed inside order_send for {what} ({exc!r}); the order may exist"
            ) from exc
        if row is None:
            code, text = error or (0, "no error given")
            if code in _NOT_SENT:
                raise OrderRejected(
                    f"MetaTrader 5 refused {what} before sending it: {_NOT_SENT[code]} "
                    f"({code} {text})"
                )
            return self._reconcile(fields, what, f"no result, last_error {code} {text}")
        result = SendResult.of(row)
        kind = retcodes.outcome(result.retcode)
        if kind is retcodes.Outcome.DONE:
            self._keep(str(fields.get("comment", "")), result.order)
            return result
        if kind is retcodes.Outcome.UNKNOWN:
            return self._reconcile(fields, what, retcodes.describe(result.retcode))
        raise retcodes.error_for(result.retcode, what, result.comment)

    def _keep(self, comment: str, ticket: int) -> None:
        if ticket:
            self.tickets.setdefault(comment, set()).add(ticket)

    def _reconcile(self, fields: dict[str, Any], what: str, why: str) -> SendResult:
        """Look for the deal or order that an unanswered request may have made, and take its
        late reply if it comes meanwhile."""
        comment = str(fields.get("comment", ""))
        if not comment:
            raise OutcomeUnknown(f"MetaTrader 5 gave no answer to {what} ({why})")
        deadline = time.monotonic() + self.session.config.reconcile_timeout
        trouble = ""
        while True:
            late = self.late_reply(comment)
            if late is not None:
                return late
            deal = fields.get("type") in (0, 1) and not fields.get("position")  # BUY, SELL
            try:
                found = self.find(
                    comment, position=fields.get("position"), symbol=fields.get("symbol"),
                    kind=fields["type"] if deal else None, loose=True,
                )  # fmt: skip
            except TemporaryError as exc:  # the terminal cannot be read right now
                found, trouble = None, f"; reading the terminal failed: {exc}"
            if isinstance(found, Doubt):
                raise OutcomeUnknown(f"MetaTrader 5 gave no answer to {what} ({why}); {found.why}")
            if found is not None:
                log.info("MetaTrader 5 %s: answer lost (%s) but found on the terminal", what, why)
                return found
            if time.monotonic() >= deadline:
                break
            time.sleep(_RECONCILE_PAUSE)
        raise OutcomeUnknown(
            f"MetaTrader 5 gave no answer to {what} ({why}) and no order with magic "
            f"{self.session.config.magic} and comment {comment!r} was found{trouble}; "
            "the order may still appear"
        )

    def late_reply(self, comment: str) -> SendResult | None:
        """The reply of a request set aside, if it came; None while it has not."""
        waiting = self._unanswered.get(comment)
        if waiting is None:
            return None
        try:
            if not waiting.pending.wait(0.0):
                return None
        except waiting.terminal.link_errors:
            self._forget(comment)  # that connection ended: its reply will never come
            return None
        self._forget(comment)
        log.info("MetaTrader 5 %s: the late reply came", waiting.what)
        return self._answered(waiting.pending, waiting.fields, waiting.what)

    def _forget(self, comment: str) -> None:
        waiting = self._unanswered.pop(comment, None)
        if waiting is not None:
            waiting.terminal.close()

    def in_flight(self, comment: str) -> bool:
        """A request with this comment was sent and neither its reply nor its end came yet."""
        waiting = self._unanswered.get(comment)
        return waiting is not None and not waiting.terminal.closed

    def find(
        self,
        comment: str,
        *,
        position: int | None = None,
        symbol: str | None = None,
        kind: int | None = None,
        loose: bool = False,
    ) -> SendResult | Doubt | None:
        """What the terminal holds for our magic and this comment (or the tickets replies gave
        for it). `loose` also takes comments the server shortened or added to; `symbol` and
        `kind` (the request's order type) narrow what counts."""
        books = self.books(position)
        if symbol is not None:
            books = Books(
                deals=[d for d in books.deals if d.symbol == symbol],
                history=[o for o in books.history if o.symbol == symbol],
                pending=[o for o in books.pending if o.symbol == symbol],
                positions=[p for p in books.positions if p.symbol == symbol],
            )
        if kind is not None:
            books.deals = [d for d in books.deals if d.type == kind]
        if not loose:
            books = _exact(books, comment, self.tickets.get(comment, set()))
        found = finder.select(
            books, comment, self.tickets.get(comment, set()), closing=_closing(comment),
            hedging=self.session.hedging,
        )  # fmt: skip
        if isinstance(found, SendResult):
            self._keep(comment, found.order)
        return found

    def books(self, position: int | None = None) -> Books:
        s = self.session
        ours = (("magic", s.config.magic),)
        if position is not None:
            return Books(deals=s.many(Deal, "history_deals_get", where=ours, position=position))
        since, until = finder.window(s.config.lookup_days)
        return Books(
            deals=s.many(Deal, "history_deals_get", since, until, where=ours),
            history=s.many(HistoryOrder, "history_orders_get", since, until, where=ours),
            pending=s.many(PendingOrder, "orders_get", where=ours),
            positions=s.many(Position, "positions_get", where=ours) if s.hedging else [],
        )

    def close(self) -> None:
        for comment in list(self._unanswered):
            self._forget(comment)


def _closing(comment: str) -> bool:
    return comment.endswith((EXIT_SUFFIX, REVERSE_EXIT_SUFFIX))


def _exact(books: Books, comment: str, tickets: set[int]) -> Books:
    def mine(ticket: int, stored: str) -> bool:
        return ticket in tickets or stored == comment

    return Books(
        deals=[d for d in books.deals if mine(d.order, d.comment)],
        history=[o for o in books.history if mine(o.ticket, o.comment)],
        pending=[o for o in books.pending if mine(o.ticket, o.comment)],
        positions=[p for p in books.positions if mine(p.ticket, p.comment)],
    )
