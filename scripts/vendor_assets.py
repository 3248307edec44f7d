"""Refresh the pinned front-end assets under static/vendor/ from the npm registry.

Only developers changing a version run this (``make vendor``); running the console needs
no Node. Each file's SHA-256 goes into static/vendor/MANIFEST.json, which a test checks.

Pages load tabler.console.min.css: the design system's CSS cut down by PurgeCSS to the
selectors the console uses (in its templates, its JavaScript and the class names written in
Python) plus the classes made at run time (colour variants, the states Bootstrap sets).
After using a design-system class the console did not use before, run
``python scripts/vendor_assets.py --css`` to cut it again; a test names any class missing.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"
PURGECSS = "purgecss@8.0.0"

# package, version, folder under static/vendor, {file in the package: name to keep}
ASSETS = [
    (
        "@tabler/core",
        "1.6.1",
        "tabler",
        {"dist/css/tabler.min.css": "tabler.min.css", "dist/js/tabler.min.js": "tabler.min.js"},
    ),
    (
        "@tabler/icons-sprite",
        "3.35.0",
        "tabler-icons",
        {"dist/tabler-sprite.svg": "tabler-sprite.svg", "LICENSE": "LICENSE"},
    ),
    ("htmx.org", "2.0.11", "htmx", {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "LICENSE"}),
    (
        "chart.js",
        "4.5.1",
        "chartjs",
        {"dist/chart.umd.min.js": "chart.umd.min.js", "LICENSE.md": "LICENSE.md"},
    ),
]


def _strip_source_map(name: str, data: bytes) -> bytes:
    """Drop sourceMappingURL comments: the maps are not vendored, and the hashed static
    storage would fail on a reference to a missing file."""
    if not name.endswith((".js", ".css")):
        return data
    return re.sub(rb"\n?(//# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^*]*\*/)", b"", data)


# Where the console's class names are written, relative to the checkout. Bootstrap's
# JavaScript is left out: it names every component; the states it sets are in the safelist.
CSS_CONTENT = [
    "templates/**/*.html",
    "static/js/**/*.js",
    "apps/**/*.py",
    "martech/**/*.py",
]
_COLOURS = (
    "blue|azure|indigo|purple|pink|red|orange|yellow|lime|green|teal|cyan|gray|muted|dark|light"
    "|white|black|primary|secondary|tertiary|success|info|warning|danger|body|reset"
)
# Selectors kept whatever the content says: elements that Django's widgets and error lists
# write, class names put together in templates (``bg-{{ colour }}-lt``) and the states that
# Bootstrap's JavaScript adds and removes.
CSS_SAFELIST = {
    "standard": [
        r"^(html|body|input|select|textarea|button|option|optgroup|label|fieldset|legend)$",
        r"^(ul|ol|li|dl|dt|dd|p|a|span|div|hr|pre|code|kbd|small|strong|b|em|i|abbr|mark)$",
        r"^(table|thead|tbody|tfoot|tr|th|td|caption|img|svg|canvas|details|summary|time)$",
        r"^(h[1-6]|sub|sup|blockquote|figure|progress|meter|output|iframe|nav|main)$",
        r"^errorlist$",
        rf"^(bg|text|alert)-({_COLOURS})(-lt|-fg|-subtle|-emphasis)?$",
        r"^(show|showing|hiding|fade|collapse|collapsing|collapsed|active|disabled)$",
        r"^(is-valid|is-invalid|was-validated|valid-feedback|invalid-feedback)$",
        r"^(modal|dropdown)",
        r"^htmx-",
    ],
}
# Attributes that Bootstrap's JavaScript sets on open menus and toggles: their selectors stay.
CSS_DYNAMIC_ATTRIBUTES = [
    "data-bs-popper",
    "data-tblr-popper",
    "data-popper-placement",
    "aria-expanded",
    "aria-selected",
    "aria-current",
    "aria-disabled",
    "aria-invalid",
]
_PURGE_RUNNER = """
const fs = require("fs");
const { PurgeCSS } = require("purgecss");
const options = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
options.safelist.standard = options.safelist.standard.map((source) => new RegExp(source));
new PurgeCSS().purge(options).then((results) => {
  fs.writeFileSync(options.output, results[0].css);
});
"""


def purge_tabler_css(tmp: str) -> str:
    """Write tabler.console.min.css, the part of tabler.min.css the console uses; return its
    SHA-256."""
    subprocess.run(
        ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--silent", PURGECSS],
        cwd=tmp,
        check=True,
    )
    source = VENDOR / "tabler" / "tabler.min.css"
    target = VENDOR / "tabler" / "tabler.console.min.css"
    options = {
        "css": [str(source)],
        "content": [str(ROOT / pattern) for pattern in CSS_CONTENT],
        "safelist": CSS_SAFELIST,
        "dynamicAttributes": CSS_DYNAMIC_ATTRIBUTES,
        "output": str(target),
    }
    (Path(tmp) / "options.json").write_text(json.dumps(options))
    (Path(tmp) / "purge.cjs").write_text(_PURGE_RUNNER)
    subprocess.run(["node", "purge.cjs", "options.json"], cwd=tmp, check=True)
    print(f"{target.name}: {source.stat().st_size:,} -> {target.stat().st_size:,} bytes")
    return hashlib.sha256(target.read_bytes()).hexdigest()


def _record(manifest: dict, digest: str) -> None:
    files = {**manifest["tabler"]["files"], "tabler.console.min.css": digest}
    manifest["tabler"]["files"] = dict(sorted(files.items()))


def main() -> int:
    if sys.argv[1:] == ["--css"]:
        manifest = json.loads((VENDOR / "MANIFEST.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            _record(manifest, purge_tabler_css(tmp))
        (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return 0
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, folder, files in ASSETS:
            out = (
                subprocess.run(
                    ["npm", "pack", f"{package}@{version}", "--silent"],
                    cwd=tmp,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            target = VENDOR / folder
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            with tarfile.open(Path(tmp) / out) as archive:
                for inner, name in files.items():
                    member = archive.extractfile(f"package/{inner}")
                    (target / name).write_bytes(_strip_source_map(name, member.read()))
            manifest[folder] = {
                "package": package,
                "version": version,
                "files": {
                    name: hashlib.sha256((target / name).read_bytes()).hexdigest()
                    for name in sorted(files.values())
                },
            }
        _record(manifest, purge_tabler_css(tmp))
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"vendored {len(manifest)} packages into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
