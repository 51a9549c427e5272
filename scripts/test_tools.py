"""Install the system tools the tests drive, where they are missing.

The page tests use Debian's Chromium through Playwright (no browser download);
the document tests rasterise PDFs with poppler's pdftoppm. Both come from
Debian's packages; this runs `apt-get` only when something is missing.
"""

import os
import shutil
import subprocess
import sys

NEEDED = {"chromium": "chromium", "pdftoppm": "poppler-utils"}


def main() -> int:
    missing = [pkg for tool, pkg in NEEDED.items() if shutil.which(tool) is None]
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
