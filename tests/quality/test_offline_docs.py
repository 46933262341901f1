"""The GX data docs open offline: every page loads its styles and scripts from the site itself.

The rewrite is checked on a hand-written page (known CDN URLs become relative paths to the vendored
copy at the page's depth, the integrity/crossorigin attributes a file:// page cannot satisfy go, links a
person clicks stay, an unknown URL is reported); the vendored bytes against their pinned SHA-256; the
refresh against a hand-made npm tarball; and a real site (one passing and one failing gate run) in
headless Chromium with every host unresolvable: the index table is drawn by bootstrap-table, the suite
page is styled by Bootstrap, and no script error reaches the console.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path

import duckdb
import pytest

from core.paths import DataPaths
from ingestion.schemas import create_raw_tables
from quality import offline_docs
from quality.context import build_data_docs, ensure_gates, open_context, run_gate
from quality.offline_docs import ASSETS, SITE_VENDOR, make_offline, npm_tarball_url, refresh, verify_assets
from quality.raw_frames import read_raw_frame
from quality.suites import MANIFEST_ROWS_PARAMETER
from tests.helpers.headless_chromium import CHROMIUM, dump_dom

JQUERY = "https://code.jquery.com/jquery-3.7.1.min.js"
POPPER = "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
UNKNOWN = "https://cdn.example.com/new-widget.js"
PAGE = f"""<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="{POPPER}" integrity="sha384-ApNbgh9B" crossorigin="anonymous"></script>
<script src="{JQUERY}"></script>
<script src="{UNKNOWN}"></script>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20261201T1&x=1">
<a href="https://greatexpectations.io">Great Expectations</a>
</body></html>"""


def test_the_vendored_files_are_the_pinned_bytes() -> None:
    assert verify_assets() == []


def test_every_url_maps_to_one_vendored_file() -> None:
    urls = [url for asset in ASSETS for url in asset.urls]
    assert len(urls) == len(set(urls)) == 16  # the 16 CDN URLs GX 1.24 writes (counted in its pages)
    assert len({asset.local for asset in ASSETS}) == len(ASSETS)


def test_a_page_is_pointed_at_the_vendored_files_at_its_depth(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "validations" / "raw__pos").mkdir(parents=True)
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    (site / "validations" / "raw__pos" / "run.html").write_text(PAGE, encoding="utf-8")

    assert make_offline(site) == {UNKNOWN}

    index = (site / "index.html").read_text(encoding="utf-8")
    deep = (site / "validations" / "raw__pos" / "run.html").read_text(encoding="utf-8")
    assert '<script src="static/vendor/jquery@3.7.1/dist/jquery.min.js"></script>' in index
    assert '<script src="../../static/vendor/jquery@3.7.1/dist/jquery.min.js"></script>' in deep
    # Subresource integrity and CORS are dropped only where the URL was rewritten.
    assert '<script src="static/vendor/popper.js@1.12.9/dist/umd/popper.min.js"></script>' in index
    assert f'<script src="{UNKNOWN}"></script>' in index
    assert 'href="static/vendor/bootstrap@4.3.1/dist/css/bootstrap.min.css"' in index
    assert '<img src="static/images/logo-long.png">' in index
    assert '<a href="https://greatexpectations.io">' in index  # a link is not a load
    for asset in ASSETS:  # every vendored file is in the site, byte for byte
        copied = site / SITE_VENDOR / asset.local
        assert hashlib.sha256(copied.read_bytes()).hexdigest() == asset.sha256


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_refresh_writes_each_file_and_licence_from_the_npm_tarball(tmp_path: Path) -> None:
    requested = []

    def fetch(url: str) -> bytes:
        requested.append(url)
        package = next(a for a in ASSETS if npm_tarball_url(a.package, a.version) == url)
        files = {a.path: f"{a.package} {a.path}".encode() for a in ASSETS if a.package == package.package}
        return _tarball({**files, "LICENSE": b"MIT", "README.md": b"not vendored"})

    digests = refresh(tmp_path, fetch=fetch)

    assert "https://registry.npmjs.org/@fortawesome/fontawesome-free/-/fontawesome-free-6.6.0.tgz" in requested
    assert "https://registry.npmjs.org/jquery/-/jquery-3.7.1.tgz" in requested
    assert len(requested) == 10  # one tarball per package
    jquery = next(a for a in ASSETS if a.package == "jquery")
    assert (tmp_path / jquery.local).read_bytes() == b"jquery dist/jquery.min.js"
    assert digests[jquery] == hashlib.sha256(b"jquery dist/jquery.min.js").hexdigest()
    assert (tmp_path / "jquery@3.7.1" / "LICENSE").read_bytes() == b"MIT"
    assert not list(tmp_path.rglob("README.md"))
    assert len(verify_assets(tmp_path)) == len(ASSETS)  # the fake bytes are not the pinned ones


def test_refresh_names_a_file_missing_from_its_package(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(offline_docs, "ASSETS", (offline_docs.Asset("jquery", "3.7.1", "dist/gone.js", ""),))
    with pytest.raises(FileNotFoundError, match=r"jquery@3\.7\.1 has no dist/gone\.js"):
        refresh(tmp_path, fetch=lambda url: _tarball({"dist/jquery.min.js": b"x"}))


ROW = ("R1", "销售", "S01", "2026-10-30 10:00:00", "13812345678", False, "SKU1", 1.0, 99.0, 0.0, 99.0, "微信",
       "abc", "pos/pos_2026-10.csv", 2, "2026-11-01 00:00:00")  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data docs of one passing and one failing (null receipt) run of the pos gate."""
    paths = DataPaths(tmp_path_factory.mktemp("gx_docs"))
    context = open_context(paths)
    ensure_gates(context, ("pos",))
    con = duckdb.connect()
    create_raw_tables(con)
    columns = "receipt_no, receipt_type, store_code, sold_at, phone, phone_masked, sku_code, quantity, " \
        "unit_price, discount_amount, paid_amount, payment_method, _file_sha256, _file_name, _row_number, _loaded_at"
    con.execute(f"insert into raw.pos ({columns}) values ({', '.join('?' * 16)})", ROW)
    assert run_gate(context, "pos", read_raw_frame(con, "pos").frame, {MANIFEST_ROWS_PARAMETER: 1}).success
    con.execute("update raw.pos set receipt_no = null")
    assert not run_gate(context, "pos", read_raw_frame(con, "pos").frame, {MANIFEST_ROWS_PARAMETER: 1}).success
    con.close()
    return build_data_docs(context).parent


def _loads(html: str) -> list[str]:
    return re.findall(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(https?://[^"'\s>]+)""", html)


def test_no_page_of_the_built_site_loads_from_the_internet(site: Path) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) == 4  # index, the suite, two validation results
    for page in pages:
        assert _loads(page.read_text(encoding="utf-8")) == [], page


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (.ci/run installs it)")
def test_the_site_renders_styled_in_chromium_without_network(site: Path, tmp_path: Path) -> None:
    dom, console = dump_dom(site / "index.html", tmp_path / "chromium")
    assert [line for line in console if "Uncaught" in line or "rror" in line] == []
    # bootstrap-table drew one row per validation run and one per suite (the raw HTML has empty tables).
    rows = re.findall(r'<tr class="clickable-row" data-href="([^"]+)" data-index="\d+"', dom)
    assert sorted(row.split("/")[0] for row in rows) == ["expectations", "validations", "validations"]
    assert "fixed-table-container" in dom  # bootstrap-table's own wrapper

    # A copy of the suite page (same folder, so the same relative paths) that records, once loaded, what
    # its scripts and stylesheets defined: jQuery with Bootstrap's plugins, Vega, Bootstrap's body font.
    page = (site / "expectations" / "raw__pos.html").read_text(encoding="utf-8")
    probe = site / "expectations" / "probe.html"
    probe.write_text(page.replace("</body>", f"<script>{PROBE}</script></body>"), encoding="utf-8")
    dom, console = dump_dom(probe, tmp_path / "chromium")
    probe.unlink()
    assert [line for line in console if "Uncaught" in line or "rror" in line] == []
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[-2000:]
    jquery, collapse, table, vega, font = found.group(1).split("|")
    assert (jquery, collapse, table, vega) == ("3.7.1", "function", "function", "function")
    assert font.startswith("-apple-system")  # bootstrap 4's body font stack, not the browser's default serif


PROBE = (
    "document.body.setAttribute('data-probe', [jQuery.fn.jquery, typeof jQuery.fn.collapse, "
    "typeof jQuery.fn.bootstrapTable, typeof vegaEmbed, getComputedStyle(document.body).fontFamily].join('|'))"
)
