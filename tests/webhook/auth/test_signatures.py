"""One valid request, then exactly one thing broken per test (as standard-webhooks tests do)."""

from __future__ import annotations

import base64

import pytest

from webhook.auth.signatures import WebhookSecret, sign, signature_headers, verify_signature
from webhook.errors import AuthError

# The test vector from the Standard Webhooks specification.
SPEC_SECRET = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def valid() -> dict[str, str]:
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }


def verify(headers: dict[str, str], body: bytes = SPEC_BODY, *, now: float = SPEC_TIMESTAMP,
           secrets: list[WebhookSecret] | None = None) -> str:
    return verify_signature(secrets or [SPEC_SECRET], headers, body, now=now)


def test_spec_test_vector_signs_as_specified() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_valid_request_verifies_and_returns_its_id() -> None:
    assert verify(valid()) == SPEC_ID


def test_changed_body_fails() -> None:
    with pytest.raises(AuthError, match="no valid signature"):
        verify(valid(), SPEC_BODY + b" ")


def test_wrong_secret_fails() -> None:
    with pytest.raises(AuthError):
        verify(valid(), secrets=[WebhookSecret.generate()])


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_fails_naming_it(missing: str) -> None:
    headers = valid()
    del headers[missing]
    with pytest.raises(AuthError, match=f"missing header {missing}"):
        verify(headers)


@pytest.mark.parametrize("stamp", ["", "abc", "-1", "1614265330.5", "١٢٣", "9" * 40])
def test_malformed_timestamp_fails(stamp: str) -> None:
    with pytest.raises(AuthError):
        verify({**valid(), "webhook-timestamp": stamp})


def test_timestamp_301_seconds_old_fails_and_300_passes() -> None:
    assert verify(valid(), now=SPEC_TIMESTAMP + 300) == SPEC_ID
    with pytest.raises(AuthError, match="too old"):
        verify(valid(), now=SPEC_TIMESTAMP + 301)


def test_timestamp_301_seconds_ahead_fails_and_300_passes() -> None:
    assert verify(valid(), now=SPEC_TIMESTAMP - 300) == SPEC_ID
    with pytest.raises(AuthError, match="in the future"):
        verify(valid(), now=SPEC_TIMESTAMP - 301)


@pytest.mark.parametrize(
    "signature",
    ["", "v1,", "v1", "garbage", "v1,!!!!", "v2," + SPEC_SIGNATURE[3:], "v1," + "A" * 5000,
     SPEC_SIGNATURE[:-2], "v1 ," + SPEC_SIGNATURE[3:]],
)
def test_malformed_or_wrong_signature_fails_with_the_auth_error(signature: str) -> None:
    with pytest.raises(AuthError):
        verify({**valid(), "webhook-signature": signature})


def test_any_matching_v1_entry_passes() -> None:
    several = f"v1,bm90IGl0 v2,whatever {SPEC_SIGNATURE} v1,YWxzbyBub3Q="
    assert verify({**valid(), "webhook-signature": several}) == SPEC_ID


def test_any_configured_secret_passes_so_keys_can_rotate() -> None:
    assert verify(valid(), secrets=[WebhookSecret.generate(), SPEC_SECRET]) == SPEC_ID


def test_overlong_id_fails() -> None:
    headers = signature_headers(SPEC_SECRET, SPEC_BODY, msg_id="m" * 300)
    with pytest.raises(AuthError, match="webhook-id"):
        verify_signature([SPEC_SECRET], headers, SPEC_BODY)


def test_signature_headers_round_trip() -> None:
    headers = signature_headers(SPEC_SECRET, b"buy 1 X")
    assert verify_signature([SPEC_SECRET], headers, b"buy 1 X") == headers["webhook-id"]


@pytest.mark.parametrize("text", ["whsec_!!!", "whsec_" + base64.b64encode(b"short").decode(), ""])
def test_malformed_secret_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookSecret.parse(text)


def test_secret_repr_hides_the_key() -> None:
    secret = WebhookSecret.generate()
    assert base64.b64encode(secret.key).decode() not in repr(secret)
    assert str(WebhookSecret.parse(str(secret))) == str(secret)
