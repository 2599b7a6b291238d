"""Signal ids are ULIDs: 26 Crockford base32 characters, the first ten the time in ms."""

from __future__ import annotations

import time

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
