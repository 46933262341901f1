"""The per-deployment key of the keyed hashes (HMAC-SHA256) that marts and exports show instead of phones.

A plain or publicly salted sha256 of a Chinese mobile number is reversed by enumerating the ~1.6 billion
numbers (about 0.7 h on two cores). Marts therefore carry ``HMAC-SHA256(key, value)`` with a key that
only this deployment knows:

- ``$REPURCHASE_HASH_KEY`` when set (e.g. from a secrets manager), else
- ``<data dir>/.secrets/hash_key``, generated on first use (32 random bytes, hex; folder 0700, file 0600),
  never in the repository. Keep it with backups: a new key changes every hash (joins across old exports
  break), which is also how to rotate it.
- A demo data directory (one the demo generator wrote: it has ``ground_truth/``) uses the public
  :data:`DEMO_KEY`, so the demo's hashes are reproducible. Anywhere else the demo key is refused loudly.

The key reaches the warehouse as one row of ``restricted.hash_key`` (the HMAC's inner and outer pads)
written before dbt runs, so it never appears in dbt's compiled SQL, logs or variables.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import warnings
from pathlib import Path

import duckdb

from core.paths import DataPaths

HASH_KEY_ENV = "REPURCHASE_HASH_KEY"
DEMO_KEY = "repurchase-demo-salt"
KEY_FILE = Path(".secrets") / "hash_key"
HASH_KEY_TABLE = "restricted.hash_key"
BLOCK_SIZE = 64  # SHA-256's block size in bytes


class DemoKeyWarning(UserWarning):
    """The public demo key is used on data that is not the demo's: every hash is reversible."""


def is_demo_data(paths: DataPaths) -> bool:
    return paths.ground_truth.is_dir()


def hash_key(paths: DataPaths) -> str:
    """This deployment's key: the environment's, the demo's for demo data, else the data dir's own
    (generated on first use)."""
    configured = os.environ.get(HASH_KEY_ENV)
    if configured:
        if configured == DEMO_KEY and not is_demo_data(paths):
            warnings.warn(
                f"{HASH_KEY_ENV} is the public demo key but {paths.root} is not demo data: every phone hash "
                "in the marts and exports can be reversed. Unset it to get a generated key.",
                DemoKeyWarning,
                stacklevel=2,
            )
        return configured
    if is_demo_data(paths):
        return DEMO_KEY
    path = paths.root / KEY_FILE
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104) for SHA-256."""
    raw = key.encode("utf-8")
    if len(raw) > BLOCK_SIZE:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)


def install_hash_key(con: duckdb.DuckDBPyConnection, paths: DataPaths) -> None:
    """Write this deployment's HMAC pads into ``restricted.hash_key`` (replacing any previous row); a
    warehouse that already holds them is not written at all."""
    inner, outer = hmac_pads(hash_key(paths))
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'restricted' "
        "and table_name = 'hash_key'"
    ).fetchone()[0]
    if exists and con.execute(f"select inner_pad, outer_pad from {HASH_KEY_TABLE}").fetchall() == [
        (inner, outer)
    ]:
        return
    con.execute("create schema if not exists restricted")
    con.execute(f"create or replace table {HASH_KEY_TABLE} (inner_pad blob, outer_pad blob)")
    con.execute(f"insert into {HASH_KEY_TABLE} values (?, ?)", [inner, outer])


def install_hash_key_in(paths: DataPaths) -> None:
    """:func:`install_hash_key` on the data directory's warehouse (created if missing, mode 0600)."""
    paths.root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(paths.warehouse))
    try:
        install_hash_key(con, paths)
    finally:
        con.close()
    restrict_warehouse(paths)


def restrict_warehouse(paths: DataPaths) -> None:
    """The warehouse holds ``restricted.*`` (phones, names, addresses, the hash key): owner-only."""
    for path in (paths.warehouse, paths.warehouse.with_name(paths.warehouse.name + ".wal")):
        if path.exists():
            os.chmod(path, 0o600)
