"""Make the GX data docs open offline: every stylesheet, script, font and logo they load from a CDN is
served from a copy inside the site.

Great Expectations 1.x writes pages that load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and
its logos from public CDNs; offline (the machine this runs on has no internet, nor do many merchants'
BI desktops) the index page shows no table at all (bootstrap-table renders it from JavaScript) and every
page renders unstyled. After each build :func:`make_offline` copies the vendored files
(``quality/data_docs_assets/``, the exact versions GX asks for, taken from the npm registry) into
``<site>/static/vendor/`` and points each page at them. ``ASSETS`` maps every URL GX writes to its
vendored file; a URL it does not know is left alone and reported (the tests fail on it, so a GX upgrade
that adds one is noticed). The files' integrity is pinned by their SHA-256 (:func:`verify_assets`, run
by the tests); ``python -m quality.offline_docs --refresh`` fetches them again from the npm registry.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import shutil
import tarfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "data_docs_assets"
SITE_VENDOR = Path("static") / "vendor"
NPM_REGISTRY = "https://registry.npmjs.org"
# GX's own logo, which it loads from its web-assets bucket, ships with its static files.
GX_LOGO = "static/images/logo-long.png"
GX_LOGO_URL = re.compile(
    r"https://great-expectations-web-assets\.s3\.[\w.-]+\.amazonaws\.com/[\w.-]+\.png[^\"'\s>]*"
)


@dataclass(frozen=True)
class Asset:
    """One vendored file: where in its npm package it is, and the CDN URLs GX writes for it."""

    package: str
    version: str
    path: str  # inside the package tarball, below ``package/``
    sha256: str
    urls: tuple[str, ...] = ()

    @property
    def local(self) -> Path:
        """Path below ``data_docs_assets/`` (and below ``<site>/static/vendor/``)."""
        return Path(f"{self.package.replace('/', '__')}@{self.version}") / self.path


FONTAWESOME = "@fortawesome/fontawesome-free"
ASSETS: tuple[Asset, ...] = (
    Asset("jquery", "3.7.1", "dist/jquery.min.js",
          "fc9a93dd241f6b045cbff0481cf4e1901becd0e12fb45166a8f17f95823f0b1a",
          ("https://code.jquery.com/jquery-3.7.1.min.js",)),
    Asset("popper.js", "1.12.9", "dist/umd/popper.min.js",
          "a52f7aa54d7bcaafa056ee0a050262dfc5694ae28dee8b4cac3429af37ff0d66",
          ("https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",)),
    Asset("bootstrap", "4.3.1", "dist/css/bootstrap.min.css",
          "60b19e5da6a9234ff9220668a5ec1125c157a268513256188ee80f2d2c8d8d36",
          ("https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css",)),
    Asset("bootstrap", "4.3.1", "dist/js/bootstrap.min.js",
          "0a34a87842c539c1f4feec56bba982fd596b73500046a6e6fe38a22260c6577b",
          ("https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js",)),
    Asset("@forevolve/bootstrap-dark", "1.1.0", "dist/css/bootstrap-prefers-dark.min.css",
          "424070f1f798087a68c110a776228f9eaae5406df143940faa67d77344293ac8",
          ("https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",)),
    Asset("bootstrap-table", "1.19.1", "dist/bootstrap-table.min.css",
          "643f536f6982af4d7287af23f89ad457dd7e4a82f9c695330a112b0881c30a4a",
          ("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css",)),
    Asset("bootstrap-table", "1.19.1", "dist/bootstrap-table.min.js",
          "06a571a9beb50bd5ddd60517159775dfec1f3e798fff38fb117ae2350dc9ba9d",
          ("https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js",)),
    Asset("bootstrap-table", "1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
          "be4e0c0d11f9319f1ad191f7447a38f755728bbaa10903e469f367441ba79ae2",
          ("https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
           "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css")),
    Asset("bootstrap-table", "1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
          "111f68d31d1bdd714f9503bf5f4e162e0739c363e4ff2feef950d39e78266ffc",
          ("https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",)),
    Asset("bootstrap-datepicker", "1.9.0", "dist/css/bootstrap-datepicker.min.css",
          "b22c8ea45fe905650f8087108b5ed32c1923bcd80d400adc9b0241f18be40208",
          ("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",)),
    Asset("bootstrap-datepicker", "1.9.0", "dist/js/bootstrap-datepicker.min.js",
          "6ea55ea86749ee1fe560fabac6b3effd81b33046fa74dc657e24d41d28110a9f",
          ("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",)),
    Asset(FONTAWESOME, "6.6.0", "css/all.min.css",
          "e5e202e3c899507992952533f57b634722b69b34241d271963559d31aa33ef81",
          ("https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css",)),
    # all.min.css loads its fonts from ../webfonts/ (woff2 first: every current browser stops there).
    Asset(FONTAWESOME, "6.6.0", "webfonts/fa-solid-900.woff2",
          "1f0189e087fcefbf654fad74a3a06668b782c01353a61d5c0b7f0bf23e33c020"),
    Asset(FONTAWESOME, "6.6.0", "webfonts/fa-regular-400.woff2",
          "c732f106e91bc618767fbac8e2c7b27e5c736d477b2bb4fb83f597a43198c33c"),
    Asset(FONTAWESOME, "6.6.0", "webfonts/fa-brands-400.woff2",
          "c411f11975d26eb04cd2aa3c071181d4b18e489f1fb97060d4176a3531dfb36e"),
    Asset(FONTAWESOME, "6.6.0", "webfonts/fa-v4compatibility.woff2",
          "2aca24b35bd41474dcc5e7fb5f11ec43fa06e3ac1d0035ad41108fa6b30b0871"),
    Asset("vega", "5.33.1", "build/vega.min.js", "463f3db6a40b20e9747b4ed38f37ed0add508838f9141b1cf8366784b07b30c8", ("https://cdn.jsdelivr.net/npm/vega@5",)),
    Asset("vega-lite", "5.23.0", "build/vega-lite.min.js", "58c27358e26f2d319cf62f45bc17a4c8362f08645001df2ec8d341eee4097c7f", ("https://cdn.jsdelivr.net/npm/vega-lite@5",)),
    Asset("vega-embed", "6.29.0", "build/vega-embed.min.js", "12d02acfbe3ec59ef9a37dd4822a2e04e2961b5bbb671bbe661d2221715b99da", ("https://cdn.jsdelivr.net/npm/vega-embed@6",)),
)  # fmt: skip
LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md")

# A tag that loads something: <script src=…>, <link href=…>, <img src=…>.
_LOADING_TAG = re.compile(r"<(script|link|img)\b[^>]*>", re.IGNORECASE)
_EXTERNAL_LOAD = re.compile(r"""\b(?:src|href)\s*=\s*["']?(https?://[^"'\s>]+)""", re.IGNORECASE)
# Subresource-integrity and CORS attributes: a file:// page cannot satisfy a CORS check.
_SRI_ATTRIBUTES = re.compile(
    r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""", re.IGNORECASE
)


def _url_map() -> dict[str, Asset]:
    return {url: asset for asset in ASSETS for url in asset.urls}


def _rewrite_page(html: str, prefix: str, urls: dict[str, Asset]) -> tuple[str, set[str]]:
    """The page with every known CDN URL in a loading tag pointed at ``prefix`` + the vendored file;
    returns it with the external URLs it still loads."""
    unknown: set[str] = set()

    def tag(match: re.Match[str]) -> str:
        text = match.group(0)
        rewritten = False
        for url in _EXTERNAL_LOAD.findall(text):
            if url in urls:
                text = text.replace(url, prefix + (SITE_VENDOR / urls[url].local).as_posix())
                rewritten = True
            elif GX_LOGO_URL.fullmatch(url):
                text = text.replace(url, prefix + GX_LOGO)
                rewritten = True
            else:
                unknown.add(url)
        return _SRI_ATTRIBUTES.sub("", text) if rewritten else text

    return _LOADING_TAG.sub(tag, html), unknown


def make_offline(site: Path, assets_dir: Path = ASSETS_DIR) -> set[str]:
    """Copy the vendored files into ``site`` and point every page at them; returns the external URLs
    the pages still load (none, unless a GX upgrade added one)."""
    vendor = site / SITE_VENDOR
    for asset in ASSETS:
        target = vendor / asset.local
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(assets_dir / asset.local, target)
    urls = _url_map()
    unknown: set[str] = set()
    for page in site.rglob("*.html"):
        depth = len(page.relative_to(site).parts) - 1
        html = page.read_text(encoding="utf-8")
        rewritten, still_external = _rewrite_page(html, "../" * depth, urls)
        unknown |= still_external
        if rewritten != html:
            page.write_text(rewritten, encoding="utf-8")
    return unknown


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify_assets(assets_dir: Path = ASSETS_DIR) -> list[str]:
    """Problems with the vendored files (missing, or not the pinned bytes); empty when all is well."""
    problems = []
    for asset in ASSETS:
        path = assets_dir / asset.local
        if not path.is_file():
            problems.append(f"{path} is missing: run `python -m quality.offline_docs --refresh`")
        elif sha256_of(path) != asset.sha256:
            problems.append(f"{path} does not have its pinned SHA-256 {asset.sha256}")
    return problems


def npm_tarball_url(package: str, version: str) -> str:
    """The registry URL of ``package``'s tarball (scoped packages drop the scope in the file name)."""
    return f"{NPM_REGISTRY}/{package}/-/{package.rsplit('/', 1)[-1]}-{version}.tgz"


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def _package_files(tarball: bytes) -> dict[str, bytes]:
    """The files of an npm tarball by their path below ``package/``."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None and member.name.startswith("package/"):
                files[member.name.removeprefix("package/")] = extracted.read()
    return files


def refresh(assets_dir: Path = ASSETS_DIR, fetch: Callable[[str], bytes] = _download) -> dict[Asset, str]:
    """Fetch each package's tarball, write the vendored files and each package's licence into
    ``assets_dir``; returns every file's SHA-256 (to pin in :data:`ASSETS` after a version change)."""
    digests: dict[Asset, str] = {}
    packages = sorted({(asset.package, asset.version) for asset in ASSETS})
    for package, version in packages:
        files = _package_files(fetch(npm_tarball_url(package, version)))
        root = assets_dir / f"{package.replace('/', '__')}@{version}"
        for name in LICENSE_NAMES:
            if name in files:
                root.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(files[name])
        for asset in (a for a in ASSETS if (a.package, a.version) == (package, version)):
            if asset.path not in files:
                raise FileNotFoundError(f"{package}@{version} has no {asset.path}: fix its entry in ASSETS")
            target = assets_dir / asset.local
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[asset.path])
            digests[asset] = sha256_of(target)
    return digests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--refresh", action="store_true", help="fetch the vendored files from the npm registry"
    )
    args = parser.parse_args(argv)
    if args.refresh:
        for asset, digest in refresh().items():
            mark = "ok" if digest == asset.sha256 else "NEW (pin it in ASSETS)"
            print(f"{asset.local}  {digest}  {mark}")
    problems = verify_assets()
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
