"""Property-based fuzzing of the checks that stand between a stranger and the server: webhook
signatures, source-URL tokens, the admin bearer token and passphrases. Whatever arrives, each
check either passes with the right key or raises its one error; nothing else escapes."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.requests import Request

from webhook.auth.admin_token import bearer_token_matches
from webhook.auth.passphrase import check_passphrase
from webhook.auth.signatures import WebhookSecret, sign, signature_headers, verify_signature
from webhook.auth.source_urls import make_source_token, read_source_token
from webhook.auth.throttle import FailureThrottle
from webhook.errors import AuthError, Forbidden

KEY = WebhookSecret(b"k" * 8 + bytes(range(24)))
OTHER = WebhookSecret(b"o" * 8 + bytes(range(24)))
ADMIN_TOKEN = SecretStr("Zk3q-9vN_2sLx8PwR4mT7yB1cE6")
PASSPHRASE = SecretStr("open-sesame-1234")
NOW = 1_800_000_000
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

header_text = st.text(st.characters(codec="latin-1"), max_size=300)
header_names = st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"])


@FUZZ
@given(headers=st.dictionaries(header_names, header_text), body=st.binary(max_size=200))
def test_arbitrary_signature_headers_raise_only_auth_error(
    headers: dict[str, str], body: bytes
) -> None:
    try:
        verify_signature([KEY], headers, body, now=NOW)
    except AuthError:
        return
    # A pass needs a signature made with the key over exactly these bytes.
    expected = sign(KEY, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    assert expected.partition(",")[2] in headers["webhook-signature"].replace(",", " ").split()


@FUZZ
@given(
    msg_id=st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True),
    body=st.binary(max_size=200),
    tamper=st.sampled_from(["key", "body", "id", "timestamp", "none"]),
    extra=st.binary(min_size=1, max_size=5),
)
def test_a_signature_passes_only_with_the_right_key_over_the_same_content(
    msg_id: str, body: bytes, tamper: str, extra: bytes
) -> None:
    headers = signature_headers(OTHER if tamper == "key" else KEY, body, msg_id=msg_id,
                                timestamp=NOW)
    sent_body = body + extra if tamper == "body" else body
    if tamper == "id":
        headers["webhook-id"] = msg_id[:-1] + ("a" if msg_id[-1] != "a" else "b")
    if tamper == "timestamp":
        headers["webhook-timestamp"] = str(NOW + 1)
    try:
        verified = verify_signature([KEY], headers, sent_body, now=NOW)
    except AuthError:
        assert tamper != "none"
        return
    assert tamper == "none" and verified == msg_id


@FUZZ
@given(msg_id=st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
       body=st.binary(min_size=1, max_size=50))
def test_no_dot_may_move_bytes_between_the_id_and_the_body(msg_id: str, body: bytes) -> None:
    # Signed: id `x`, body `NOW.buy...`; spliced: id `x.NOW`, body `buy...`. Same content.
    signed = signature_headers(KEY, f"{NOW}.".encode() + body, msg_id=msg_id, timestamp=NOW)
    spliced = {**signed, "webhook-id": f"{msg_id}.{NOW}"}
    try:
        verify_signature([KEY], spliced, body, now=NOW)
    except AuthError as exc:
        assert "webhook-id must be" in str(exc)
        return
    raise AssertionError("a spliced webhook-id verified")


@FUZZ
@given(token=st.text(max_size=600))
def test_arbitrary_source_tokens_raise_only_auth_error(token: str) -> None:
    try:
        read_source_token([KEY], token)
    except AuthError:
        return
    raise AssertionError(f"a token not made with our key was read: {token!r}")


@FUZZ
@given(source=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
def test_source_tokens_made_with_another_key_are_refused(source: str) -> None:
    assert read_source_token([KEY], make_source_token([KEY], source)).source == source
    try:
        read_source_token([KEY], make_source_token([OTHER], source))
    except AuthError:
        return
    raise AssertionError("a token made with another key was read")


def request_with(authorization: bytes | None) -> Request:
    headers = [(b"authorization", authorization)] if authorization is not None else []
    return Request({"type": "http", "method": "GET", "path": "/api/signals", "headers": headers,
                    "client": ("192.0.2.1", 1), "query_string": b""})


@FUZZ
@given(
    offered=st.one_of(
        st.binary(max_size=200),
        st.just(b"Bearer " + ADMIN_TOKEN.get_secret_value().encode()),
        st.builds(lambda t: b"Bearer " + t, st.binary(max_size=60)),
    ),
)
def test_bearer_token_passes_only_when_it_is_the_admin_token(offered: bytes) -> None:
    throttle = FailureThrottle(free_failures=10**6, clock=time.monotonic)
    request = request_with(offered)
    matched = bearer_token_matches(request, ADMIN_TOKEN, throttle, "192.0.2.1")
    text = request.headers.get("authorization", "")
    scheme, _, token = text.partition(" ")
    assert matched == (
        scheme.lower() == "bearer" and token.strip() == ADMIN_TOKEN.get_secret_value()
    )


@FUZZ
@given(offered=st.one_of(st.none(), st.text(max_size=100),
                         st.just(PASSPHRASE.get_secret_value())))
def test_passphrase_passes_only_when_it_is_the_passphrase(offered: str | None) -> None:
    try:
        check_passphrase(offered, PASSPHRASE)
    except Forbidden:
        assert offered != PASSPHRASE.get_secret_value()
        return
    assert offered == PASSPHRASE.get_secret_value()
