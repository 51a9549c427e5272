"""System checks for the signing keys (`balai check`, and before every
management command that runs checks).

Outside debug mode the key folder (`BALAI_KEY_DIR`: the regency root key,
node keys, sync and audit keys) must lie outside the project's source tree,
and every private key in it must be readable by its owner only (0600). The
development default (`<checkout>/var/keys`) stays as it is for debug mode; in
demo mode (throwaway keys, never production) the same findings are warnings,
so benches and demos that run with debug off still start.
"""

from __future__ import annotations

import stat
from pathlib import Path

from django.conf import settings
from django.core import checks

KEY_SUFFIX = ".pem"


def key_dir_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Registered by `DocumentsConfig.ready()`."""
    if settings.DEBUG:
        return []
    demo = getattr(settings, "BALAI_DEMO", False)
    level, letter = (checks.Warning, "W") if demo else (checks.Error, "E")
    folder = Path(settings.BALAI_KEY_DIR).resolve()
    source = Path(settings.BASE_DIR).resolve()
    problems: list[checks.CheckMessage] = []
    if folder.is_relative_to(source):
        problems.append(
            level(
                "Folder kunci (BALAI_KEY_DIR) berada di dalam folder kode Balai.",
                hint=(
                    "Atur BALAI_KEY_DIR ke folder di luar repositori dan di luar "
                    "folder kode, misalnya /etc/balai/keys (pemilik: pengguna "
                    "layanan Balai, izin 0700), lalu pindahkan kunci ke sana."
                ),
                id=f"documents.{letter}001",
            )
        )
    for path in _private_keys(folder):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            problems.append(
                level(
                    f"Berkas kunci privat {path.relative_to(folder)} dapat dibaca "
                    f"pengguna lain (izin {mode:04o}).",
                    hint=(
                        "Batasi izinnya menjadi 0600 (chmod 600) untuk pengguna "
                        "layanan Balai saja."
                    ),
                    id=f"documents.{letter}002",
                )
            )
    return problems


def _private_keys(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob(f"*{KEY_SUFFIX}") if p.is_file())
