"""The offline verifier: one HTML file holding the trust bundle and the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "templates" / "documents" / "offline"
PLACEHOLDER = re.compile(r"__(REGENCY|EXPORTED_AT|TRUST|SCRIPT)__")


def build_html(bundle: dict[str, Any], *, regency_name: str) -> str:
    """Return the standalone verifier page for a trust bundle."""
    data = json.dumps(bundle, ensure_ascii=True, sort_keys=True)
    # Inside <script>: no "</script>" or "<!--" can appear in the JSON text.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    script = (HERE / "verifier.js").read_text(encoding="utf-8")
    page = (HERE / "verifier.html").read_text(encoding="utf-8")
    escaped_regency = (
        regency_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )
    values = {
        "REGENCY": escaped_regency,
        "EXPORTED_AT": str(bundle.get("exported_at", "")).replace("<", ""),
        "TRUST": data,
        "SCRIPT": script,
    }
    # One pass, so nothing inserted is ever taken for a placeholder.
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], page)
