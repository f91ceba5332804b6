"""Refresh the vendored JavaScript libraries in ``ap_avs/js/`` from the npm registry.

A maintainer tool, never imported at run time and never needed by the tests::

    python -m ap_avs.sandbox.vendor

It runs ``npm pack`` for the pinned versions below in a temporary directory and writes:

* ``lodash.min.js`` and ``dayjs.min.js``: the packages' own minified UMD builds, unchanged except
  that dayjs, which ships without a header, gets a one-line license header;
* ``uuid.js``: uuid 9 ships no UMD build, so the files of its ``dist/commonjs-browser`` build are
  wrapped, unchanged, in a tiny CommonJS loader that exports ``require('./index.js')``;
* ``THIRD_PARTY_LICENSES.md`` (the three license files) and ``VENDOR.md`` (versions, hashes).

Raises:
    subprocess.CalledProcessError: ``npm pack`` failed (registry unreachable, unknown version).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

LODASH = "lodash@4.17.21"
DAYJS = "dayjs@1.11.23"
UUID = "uuid@9.0.1"

JS_DIR = Path(__file__).resolve().parent.parent / "js"

_UUID_LOADER = """\
(function () {
  var files = {
%s
  };
  var cache = {};
  function load(name) {
    if (!Object.prototype.hasOwnProperty.call(cache, name)) {
      var module = { exports: {} };
      cache[name] = module;
      files[name](module, module.exports, load);
    }
    return cache[name].exports;
  }
  module.exports = load("./index.js");
})();
"""


def _pack(spec: str, into: Path) -> Path:
    """Run ``npm pack`` for one package and return its extracted ``package/`` directory."""
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--silent"],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    filename = json.loads(out.stdout)[0]["filename"]
    target = into / spec.split("@")[0]
    with tarfile.open(into / filename) as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def _uuid_bundle(package: Path, version: str) -> str:
    license_line = (
        f"/*! uuid {version} | MIT License | Copyright (c) 2010-2020 Robert Kieffer and other"
        " contributors | https://github.com/uuidjs/uuid\n"
        " * dist/commonjs-browser/*.js of the npm package, each file unchanged, in a CommonJS"
        " loader. */\n"
    )
    parts = []
    for path in sorted((package / "dist" / "commonjs-browser").glob("*.js")):
        body = path.read_text()
        parts.append(f'    "./{path.name}": function (module, exports, require) {{\n{body}\n    }}')
    return license_line + _UUID_LOADER % ",\n".join(parts)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lodash = _pack(LODASH, work)
        dayjs = _pack(DAYJS, work)
        uuid = _pack(UUID, work)
        versions = {
            name: json.loads((pkg / "package.json").read_text())["version"]
            for name, pkg in (("lodash", lodash), ("dayjs", dayjs), ("uuid", uuid))
        }
        files = {
            "lodash.min.js": (lodash / "lodash.min.js").read_text(),
            "dayjs.min.js": (
                f"/*! dayjs {versions['dayjs']} | MIT License | Copyright (c) 2018-present,"
                " iamkun | https://github.com/iamkun/dayjs */\n"
                + (dayjs / "dayjs.min.js").read_text()
            ),
            "uuid.js": _uuid_bundle(uuid, versions["uuid"]),
        }
        licenses = ["# Third-party licenses\n"]
        for name, pkg, license_file in (
            ("lodash", lodash, "LICENSE"),
            ("dayjs", dayjs, "LICENSE"),
            ("uuid", uuid, "LICENSE.md"),
        ):
            text = (pkg / license_file).read_text().strip()
            licenses.append(f"## {name} {versions[name]}\n\n```\n{text}\n```\n")
        JS_DIR.mkdir(exist_ok=True)
        rows = []
        for filename, text in files.items():
            (JS_DIR / filename).write_text(text)
            digest = hashlib.sha256(text.encode()).hexdigest()
            rows.append(f"| `{filename}` | {len(text.encode()):,} | `{digest[:16]}…` |")
        (JS_DIR / "THIRD_PARTY_LICENSES.md").write_text("\n".join(licenses))
        (JS_DIR / "VENDOR.md").write_text(
            "# Vendored JavaScript\n\n"
            "Written by `python -m ap_avs.sandbox.vendor` (see its docstring); do not edit by"
            " hand.\n\n"
            f"Packages: lodash {versions['lodash']}, dayjs {versions['dayjs']},"
            f" uuid {versions['uuid']} (npm).\n\n"
            "| file | bytes | sha256 |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
            "`bootstrap.js`, `support.js` and `crypto.js` beside them are ours (the sandbox's"
            " per-context set-up, console and error reports, `crypto`); see their headers.\n"
        )


if __name__ == "__main__":
    main()
