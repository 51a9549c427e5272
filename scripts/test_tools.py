"""Install the system tools the tests drive, where they are missing.

The page tests use Debian's Chromium through Playwright (no browser download);
the document tests rasterise PDFs with poppler's pdftoppm. Both come from
Debian's packages; this runs `apt-get` only when something is missing.
"""

import os
import shutil
import subprocess
import sys

NEEDED = {
    "chromium": "chromium",
    "pdftoppm": "poppler-utils",
    # Letters (balai.documents, WeasyPrint): Pango's FreeType backend and the
    # DejaVu fonts the letter templates name. "lib:" and "font:" entries are
    # looked up by name (ldconfig, fc-list), not on PATH.
    "fc-list": "fontconfig",
    "lib:pangoft2-1.0": "libpangoft2-1.0-0",
    "font:DejaVu Serif": "fonts-dejavu-core",
}


def present(tool: str) -> bool:
    if tool.startswith("lib:"):
        import ctypes.util

        return ctypes.util.find_library(tool[4:]) is not None
    if tool.startswith("font:"):
        if shutil.which("fc-list") is None:
            return False
        found = subprocess.run(
            ["fc-list", tool[5:]], capture_output=True, text=True, check=False
        )
        return bool(found.stdout.strip())
    return shutil.which(tool) is not None


def main() -> int:
    missing = [pkg for tool, pkg in NEEDED.items() if not present(tool)]
    if not missing:
        return 0
    if os.geteuid() != 0:
        print(
            "Pasang paket berikut lebih dulu (perlu root): " + " ".join(missing),
            file=sys.stderr,
        )
        return 1
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        check=True,
        env=env,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
