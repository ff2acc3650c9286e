"""docs/config.md lists every option as the code has it (regenerate: docs/make_config.py)."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_config_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("make_config", DOCS / "make_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "config.md").read_text() == module.render(), (
        "docs/config.md is stale: run .venv/bin/python docs/make_config.py"
    )
