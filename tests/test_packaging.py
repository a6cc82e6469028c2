"""Every source folder with an ``__init__.py`` must be listed in pyproject's packages,
or a non-editable install silently misses it."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folder_of = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    listed = set(config["packages"])
    found = set()
    for name, folder in folder_of.items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            found.add(".".join((name, *parts)))
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {sorted(found - listed)}"


def test_every_package_data_pattern_matches_a_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folder_of = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    missing = [f"{package}: {pattern}" for package, patterns in config["package-data"].items()
               for pattern in patterns if not list(folder_of[package].glob(pattern))]
    assert missing == []
