"""A non-editable install must carry every subpackage, the templates and the CSS."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_subpackage_is_listed():
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "feedhub").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert on_disk | {"feedhub.templates"} == set(_config()["packages"])


def test_templates_and_static_files_are_package_data():
    config = _config()
    assert config["package-dir"]["feedhub.templates"] == "templates"
    assert (ROOT / "templates" / "__init__.py").exists()
    patterns = config["package-data"]
    assert any(p.endswith(".html") for p in patterns["feedhub.templates"])
    for static in (ROOT / "feedhub" / "static").iterdir():
        assert any(static.match(p) for p in patterns["feedhub"]), static.name
