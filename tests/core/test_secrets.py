"""The per-deployment hash key: generated once (owner-only), the demo key only for demo data, and the
pads in the warehouse give exactly Python's HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from core.paths import DataPaths
from core.secrets import (
    DEMO_KEY,
    HASH_KEY_ENV,
    KEY_FILE,
    DemoKeyWarning,
    hash_key,
    install_hash_key,
)

# HMAC-SHA256 in SQL as the dbt macro pii_hash writes it (default__pii_hash).
SQL_HMAC = (
    "select sha256((select outer_pad from restricted.hash_key) || "
    "unhex(sha256((select inner_pad from restricted.hash_key) || encode(cast(? as varchar)))))"
)


@pytest.fixture
def paths(tmp_path, monkeypatch) -> DataPaths:
    monkeypatch.delenv(HASH_KEY_ENV, raising=False)
    (tmp_path / "data").mkdir()
    return DataPaths(tmp_path / "data")


def test_a_key_is_generated_once_owner_only(paths) -> None:
    key = hash_key(paths)
    assert len(key) == 64 and key != DEMO_KEY
    assert hash_key(paths) == key  # kept, not regenerated
    assert (paths.root / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert (paths.root / KEY_FILE).parent.stat().st_mode & 0o777 == 0o700


def test_demo_data_uses_the_public_demo_key_and_nothing_else_does(paths, monkeypatch) -> None:
    paths.ground_truth.mkdir()
    assert hash_key(paths) == DEMO_KEY
    paths.ground_truth.rmdir()
    monkeypatch.setenv(HASH_KEY_ENV, DEMO_KEY)
    with pytest.warns(DemoKeyWarning, match="public demo key"):
        assert hash_key(paths) == DEMO_KEY


def test_the_environment_key_wins(paths, monkeypatch) -> None:
    monkeypatch.setenv(HASH_KEY_ENV, "from-the-vault")
    assert hash_key(paths) == "from-the-vault"
    assert not (paths.root / KEY_FILE).exists()


@pytest.mark.parametrize("key", ["k", DEMO_KEY, "x" * 64, "长的钥匙" * 30])  # short, typical, block, > block
def test_sql_hmac_equals_python_hmac(paths, monkeypatch, key) -> None:
    monkeypatch.setenv(HASH_KEY_ENV, key)
    paths.ground_truth.mkdir()  # demo data: the demo key is legitimate here
    con = duckdb.connect()
    install_hash_key(con, paths)
    for value in ("13912345678", "wechat:oA1", "王"):
        expected = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
        assert con.execute(SQL_HMAC, [value]).fetchone()[0] == expected
