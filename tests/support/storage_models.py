"""Every table of every feature on `Base.metadata`, wherever its model lives under storage/."""

from __future__ import annotations

import importlib
from pathlib import Path

STORAGE = Path(__file__).resolve().parents[2] / "storage"


def import_all() -> None:
    """Import every module under storage/ (not the migrations), so that each model
    registers its table."""
    for path in sorted(STORAGE.rglob("*.py")):
        parts = path.relative_to(STORAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        importlib.import_module(".".join(parts))
