from pathlib import Path

import pytest
from packaging.requirements import Requirement

from vlmr import trl_compat
from vlmr.versions import REQUIREMENTS, TESTED, check_versions, problems

ROOT = Path(__file__).resolve().parents[1]


class TestVersionCheck:
    @pytest.mark.parametrize(
        ("versions", "expected"),
        [
            ({"transformers": TESTED["transformers"], "trl": TESTED["trl"]}, []),  # the tested pair
            ({"trl": "1.16.3"}, []),  # a patch release of the tested minor
            ({"trl": "0.19.1"}, ["trl 0.19.1 is too old"]),  # pre-environment_factory trl
            ({"trl": "1.17.0"}, ["trl 1.17.0 is newer than vlmr supports"]),  # trl_compat is not written for it
            ({"transformers": "6.0.0"}, ["transformers 6.0.0 is newer than vlmr supports"]),
        ],
    )
    def test_problems(self, versions, expected):
        found = problems(versions)
        assert len(found) == len(expected)
        for message, start in zip(found, expected, strict=True):
            assert message.startswith(start) and "pip install" in message

    def test_installed_versions_pass(self):
        check_versions()  # the venv this suite runs in is supported


class TestOneRange:
    """pyproject.toml, vlmr.versions, vlmr.trl_compat and the README table name the same ranges."""

    def test_pyproject_pins_the_checked_ranges(self):
        tomllib = pytest.importorskip("tomllib")
        deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
        pinned = {req.name: req.specifier for req in map(Requirement, deps)}
        for name, (low, high, _, fix) in REQUIREMENTS.items():
            assert str(pinned[name]) == f"<{high},>={low}", name
            assert f"{name}>={low},<{high}" in fix

    def test_trl_compat_is_written_for_the_pinned_minor(self):
        low, high, _, _ = REQUIREMENTS["trl"]
        assert (low, high) == (trl_compat.WRITTEN_FOR, "1.17")  # one minor release
        assert trl_compat.installed_minor() == trl_compat.WRITTEN_FOR

    def test_readme_table_states_the_ranges(self):
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        low, high, _, _ = REQUIREMENTS["trl"]
        assert f"| trl | {TESTED['trl']} (vlmr requires >= {low}, < {high}" in readme
        low, high, _, _ = REQUIREMENTS["transformers"]
        assert f"| transformers | {TESTED['transformers']} (vlmr requires >= {low}, < {high}" in readme
        assert f"| torch / torchvision | {TESTED['torch']} / {TESTED['torchvision']} |" in readme
