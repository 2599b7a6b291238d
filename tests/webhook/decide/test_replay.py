"""`tradehook replay`: signals received under one configuration, decided again under another."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from webhook import cli
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
PASSPHRASE = "replay-passphrase-4d1f"
# (confidence, quantity): under the old settings (threshold 0.6, no limits) the first is
# filtered and the other five queued; under the new (threshold 0.7, max_quantity 2) the first two
# are filtered, two rejected by the quantity limit and two still queued.
ALERTS = [(0.5, 1), (0.65, 1), (0.8, 1), (0.9, 2), (0.75, 3), (0.95, 5)]


def _toml(journal: Path, threshold: float, risk: str = "") -> str:
    return (
        f'confidence_threshold = {threshold}\n'
        f'journal = "sqlite:///{journal.as_posix()}"\n'
        '[plugins.paper]\ntype = "mock"\ndelay_ms = 0\nprices = { ETHUSDT = 2000 }\n'
        f'[sources.tv]\n{risk}'
    )


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A journal holding ALERTS as the old settings decided them; the new settings keep the
    source's passphrase (the stored bodies no longer carry it)."""
    monkeypatch.setenv("TRADEHOOK_SOURCES__TV__PASSPHRASE", PASSPHRASE)
    path = tmp_path / "j.db"
    old = Settings.model_validate({
        "secret": [SECRET], "journal": f"sqlite:///{path}", "confidence_threshold": 0.6,
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "prices": {"ETHUSDT": 2000}}},
        "sources": {"tv": {"passphrase": PASSPHRASE}},
    })
    token = make_source_token([SECRET], "tv")
    with TestClient(create_app(old)) as client:
        for confidence, quantity in ALERTS:
            body = {"symbol": "ETHUSDT", "side": "buy", "quantity": quantity,
                    "confidence": confidence, "passphrase": PASSPHRASE}
            answer = client.post(f"/webhook/{token}", json=body)
            assert answer.status_code in (200, 202), answer.text
    return path


def _replay(tmp_path: Path, journal: Path, text: str, *extra: str,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    config = tmp_path / "new.toml"
    config.write_text(text, encoding="utf-8")
    code = cli.main(["replay", "--config", str(config), *extra])
    seen = capsys.readouterr()
    return code, seen.out.splitlines() + seen.err.splitlines()


def _totals(lines: list[str]) -> dict[str, tuple[str, str, str]]:
    start = next(i for i, line in enumerate(lines) if line.startswith("DECISION"))
    return {line.split()[0]: tuple(line.split()[1:4]) for line in lines[start + 1:]}


def test_a_higher_threshold_and_a_quantity_limit_change_the_totals(
    tmp_path: Path, journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    risk = "[sources.tv.risk]\nmax_quantity = 2\n"
    code, lines = _replay(tmp_path, journal, _toml(journal, 0.7, risk), capsys=capsys)
    assert code == 0, lines
    totals = _totals(lines)
    assert totals["filtered"] == ("1", "2", "+1")
    assert totals["queued"] == ("5", "2", "-3")
    assert totals["rejected"] == ("0", "2", "+2")
    assert totals["all"] == ("6", "6", "3")
    changed = lines[1:lines.index("")]
    assert len(changed) == 3
    assert ["queued 1 via paper  filtered 1 via paper" in row for row in changed].count(True) == 1
    assert sum("queued 3 via paper  rejected 3 via paper" in row for row in changed) == 1
    assert sum(row.endswith("sources.tv.risk.max_quantity") for row in changed) == 2
    assert "below the threshold 0.7" in changed[0]


def test_the_same_settings_change_nothing_and_nothing_is_stored_or_sent(
    tmp_path: Path, journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = journal.read_bytes()
    code, lines = _replay(tmp_path, journal, _toml(journal, 0.6), capsys=capsys)
    assert code == 0, lines
    assert lines[0] == "no decision would differ"
    assert _totals(lines)["all"] == ("6", "6", "0")
    assert journal.read_bytes() == before


def test_since_leaves_out_older_signals(
    tmp_path: Path, journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _replay(tmp_path, journal, _toml(journal, 0.7), "--since", "2999-01-01",
                          capsys=capsys)
    assert code == 0, lines
    assert _totals(lines)["all"] == ("0", "0", "0")


@pytest.mark.parametrize("since", ["yesterday", "5 days", "1w"])
def test_a_bad_since_names_the_option(
    tmp_path: Path, journal: Path, since: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "new.toml"
    config.write_text(_toml(journal, 0.7), encoding="utf-8")
    assert cli.main(["replay", "--config", str(config), "--since", since]) == 2
    assert "--since: expected a time ago" in capsys.readouterr().err


def test_a_missing_journal_is_an_error_not_a_new_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    config = tmp_path / "new.toml"
    config.write_text(_toml(missing, 0.7), encoding="utf-8")
    assert cli.main(["replay", "--config", str(config)]) == 2
    assert "no journal at" in capsys.readouterr().err
    assert not missing.exists()


def test_an_approval_rule_shows_which_signals_would_wait_for_a_person(
    tmp_path: Path, journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = 'approval = "below"\nreview_threshold = 0.85\n'
    code, lines = _replay(tmp_path, journal, _toml(journal, 0.6, review), capsys=capsys)
    assert code == 0, lines
    totals = _totals(lines)
    assert totals["awaiting_approval"] == ("0", "3", "+3")  # 0.65, 0.8 and 0.75
    assert totals["queued"] == ("5", "2", "-3")


def test_a_fanned_out_signal_is_replayed_once_against_its_first_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fan.db"
    text = (
        f'journal = "sqlite:///{path.as_posix()}"\ndefault_plugin = "paper"\n'
        '[plugins.paper]\ntype = "mock"\ndelay_ms = 0\nprices = { ETHUSDT = 2000 }\n'
        '[plugins.sub]\ntype = "mock"\ndelay_ms = 0\nprices = { ETHUSDT = 2000 }\n'
        '[account_groups.both]\npaper = { multiplier = 3 }\nsub = { multiplier = 1 }\n'
        '[sources.tv]\nplugin = "both"\n'
    )
    config = Settings.model_validate({
        "secret": [SECRET], "journal": f"sqlite:///{path}", "default_plugin": "paper",
        "plugins": {name: {"type": "mock", "delay_ms": 0, "prices": {"ETHUSDT": 2000}}
                    for name in ("paper", "sub")},
        "account_groups": {"both": {"paper": {"multiplier": 3}, "sub": {"multiplier": 1}}},
        "sources": {"tv": {"plugin": "both"}},
    })
    token = make_source_token([SECRET], "tv")
    with TestClient(create_app(config)) as client:
        answer = client.post(f"/webhook/{token}", json={"symbol": "ETHUSDT", "side": "buy",
                                                        "quantity": 1})
        assert answer.status_code == 202, answer.text

    code, lines = _replay(tmp_path, path, text, capsys=capsys)

    assert code == 0, lines
    totals = _totals(lines)
    assert totals["all"] == ("1", "1", "0")  # one signal, not three; nothing changed
