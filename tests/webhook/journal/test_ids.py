"""Signal ids are ULIDs: 26 Crockford base32 characters, the first ten the time in ms."""

from __future__ import annotations

import os
import time

from webhook.journal import ids
from webhook.journal.ids import new_signal_id

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def decoded(ulid: str) -> int:
    value = 0
    for char in ulid:
        value = value * 32 + ALPHABET.index(char)
    return value


def test_an_id_carries_the_time_in_its_first_48_bits() -> None:
    before = time.time_ns() // 1_000_000
    signal_id = new_signal_id()
    after = time.time_ns() // 1_000_000
    assert len(signal_id) == 26 and set(signal_id) <= set(ALPHABET)
    assert before <= decoded(signal_id) >> 80 <= after


def test_ids_made_in_a_burst_are_unique_and_sort_in_order() -> None:
    made = [new_signal_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert [decoded(x) for x in made] == sorted(decoded(x) for x in made)


def test_random_parts_come_fresh_from_one_pool_after_another() -> None:
    with ids._lock:
        drawn = [ids._random_bits() for _ in range(3 * ids._POOL_BYTES // ids._RANDOM_BYTES)]
    assert len(set(drawn)) == len(drawn)  # across pool refills too
    assert all(0 <= bits < 2 ** 79 for bits in drawn)


def random_part(signal_id: str) -> int:
    return decoded(signal_id) & (2 ** 80 - 1)


def test_a_forked_child_does_not_draw_its_parents_random_bytes() -> None:
    new_signal_id()  # the pool holds bytes the parent will draw next
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        time.sleep(0.002)  # a new millisecond: fresh random bits, not a count up
        os.write(write, new_signal_id().encode())
        os._exit(0)
    time.sleep(0.002)
    mine = new_signal_id()
    os.waitpid(child, 0)
    theirs = os.read(read, 26).decode()
    os.close(read)
    os.close(write)
    assert random_part(mine) != random_part(theirs)
