"""Code that runs where the MetaTrader5 module lives: sent to the bridge once per connection
(or run in this process for transport native).

Reading a structure, or a week of deals, costs one round trip instead of one per attribute, and
a call that returns None brings `last_error()` back with it, read at once on the same thread
(the module's error is global to its process).

`tradehook_claim(owner, wait)` takes the bridge's one terminal connection for `owner`: it is held
by the thread serving that owner's connection (rpyc's threaded server serves each connection on
a thread of its own), so a holder whose connection ended, even by kill -9, holds nothing. It
returns None when taken, else the holder's name.
"""

from __future__ import annotations

TERMINAL_SIDE_SOURCE = """
def tradehook_read(function, args, kwargs, fields, where, many):
    import MetaTrader5
    result = getattr(MetaTrader5, function)(*args, **dict(kwargs))
    if result is None:
        return None, tuple(MetaTrader5.last_error())
    items = tuple(result) if many else (result,)
    rows = tuple(
        tuple(getattr(item, name) for name in fields)
        for item in items
        if all(getattr(item, key) == value for key, value in where)
    )
    return (rows if many else (rows[0] if rows else None)), None


def tradehook_send(items, fields):
    import MetaTrader5
    result = MetaTrader5.order_send(dict(items))
    if result is None:
        return None, tuple(MetaTrader5.last_error())
    return tuple(getattr(result, name) for name in fields), None


def tradehook_claim(owner, wait):
    import sys, threading, time
    lock = sys.__dict__.setdefault("tradehook_claim_lock", threading.Lock())
    deadline = time.monotonic() + wait
    while True:
        with lock:
            held = sys.__dict__.get("tradehook_claim")
            if held is None or held[0] == owner or not held[1].is_alive():
                sys.tradehook_claim = (owner, threading.current_thread())
                return None
        if time.monotonic() >= deadline:
            return held[0]
        time.sleep(0.05)


def tradehook_release(owner):
    import sys
    held = sys.__dict__.get("tradehook_claim")
    if held is not None and held[0] == owner:
        sys.tradehook_claim = None
"""
FUNCTIONS = ("tradehook_read", "tradehook_send", "tradehook_claim", "tradehook_release")
