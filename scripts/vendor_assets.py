"""Refresh the pinned front-end assets under static/vendor/ from the npm registry.

Only developers changing a version run this (``make vendor``); running the console needs
no Node. Each file's SHA-256 goes into static/vendor/MANIFEST.json, which a test checks.
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

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"

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


def main() -> int:
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
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"vendored {len(manifest)} packages into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
