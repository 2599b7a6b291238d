"""Client addresses and the IP allowlist: X-Forwarded-For counts only from trusted proxies."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.client_address import TRADINGVIEW_ADDRESSES, forwarded_client
from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.loader import load_settings
from webhook.config.settings import Settings
from webhook.errors import ConfigError

PROXY = [ip_network("10.0.0.2")]
SECRET = WebhookSecret.generate()
TRADINGVIEW = TRADINGVIEW_ADDRESSES[0]


def test_peer_is_the_client_when_no_proxy_is_trusted() -> None:
    assert forwarded_client("203.0.113.9", [TRADINGVIEW], []) == ip_address("203.0.113.9")


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    assert forwarded_client("203.0.113.9", [TRADINGVIEW], PROXY) == ip_address("203.0.113.9")


def test_trusted_proxy_names_the_client() -> None:
    assert forwarded_client("10.0.0.2", [TRADINGVIEW], PROXY) == ip_address(TRADINGVIEW)


def test_client_cannot_prepend_an_address_through_an_appending_proxy() -> None:
    forwarded = [f"{TRADINGVIEW}, 198.51.100.7"]
    assert forwarded_client("10.0.0.2", forwarded, PROXY) == ip_address("198.51.100.7")


def test_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    trusted = [ip_network("10.0.0.0/24")]
    forwarded = ["198.51.100.7", "10.0.0.5"]  # two header lines, as two proxies may send
    assert forwarded_client("10.0.0.2", forwarded, trusted) == ip_address("198.51.100.7")


def test_malformed_forwarded_hop_trusts_nothing() -> None:
    assert forwarded_client("10.0.0.2", ["not-an-address"], PROXY) is None


def test_ipv4_mapped_peer_is_read_as_ipv4() -> None:
    assert forwarded_client("::ffff:10.0.0.2", [TRADINGVIEW], PROXY) == ip_address(TRADINGVIEW)


def test_tradingview_preset_expands_to_its_four_addresses() -> None:
    settings = Settings.model_validate({"sources": {"tv": {"ip_allowlist": ["tradingview"]}}})
    assert [str(n.network_address) for n in settings.sources["tv"].ip_allowlist] == list(
        TRADINGVIEW_ADDRESSES
    )


def test_allowlist_and_proxies_come_from_environment_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "TRADEHOOK_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        "TRADEHOOK_SOURCES__TRADINGVIEW__IP_ALLOWLIST": "tradingview 192.0.2.1",
        "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none"),
    }
    settings = load_settings(None, env)
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert len(settings.sources["tradingview"].ip_allowlist) == 5


def test_wrong_allowlist_entry_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text('[sources.tv]\nip_allowlist = ["tradingveiw"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.tv\.ip_allowlist.*tradingveiw"):
        load_settings(config, {"TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")})


def test_trusted_proxies_take_no_presets() -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"trusted_proxies": ["tradingview"]})


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    yield Settings.model_validate({
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "trusted_proxies": ["10.0.0.2"],
        "sources": {
            "tv": {"ip_allowlist": ["tradingview"]},
            "open": {},
            "certified": {"require_tradingview_certificate": True},
        },
    })


def post_from(settings: Settings, peer: str, source: str, **headers: str) -> int:
    token = make_source_token([SECRET], source)
    with TestClient(create_app(settings), client=(peer, 50000)) as client:
        answer = client.post(
            f"/webhook/{token}", content=b"buy 1 BTCUSDT",
            headers={"content-type": "text/plain", **headers},
        )
        return answer.status_code


def test_tradingview_address_forwarded_by_trusted_proxy_is_admitted(settings: Settings) -> None:
    assert post_from(settings, "10.0.0.2", "tv", **{"x-forwarded-for": TRADINGVIEW}) == 202


def test_spoofed_forwarded_for_sent_straight_is_refused(settings: Settings) -> None:
    assert post_from(settings, "198.51.100.7", "tv", **{"x-forwarded-for": TRADINGVIEW}) == 403


def test_source_without_allowlist_takes_any_address(settings: Settings) -> None:
    assert post_from(settings, "198.51.100.7", "open") == 202


def test_certificate_header_counts_only_from_a_trusted_proxy(settings: Settings) -> None:
    verified = {"x-tradingview-certificate": "verified"}
    assert post_from(settings, "10.0.0.2", "certified", **verified) == 202
    assert post_from(settings, "198.51.100.7", "certified", **verified) == 403
    assert post_from(settings, "10.0.0.2", "certified") == 403
