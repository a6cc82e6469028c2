"""Tested library versions, and an early, clear failure on combinations known not to work.

Version mismatches between transformers, trl and vLLM are the most common failure
reported against Qwen-VL RL toolkits; vlmr checks at start-up instead of failing deep
inside a training step.

>>> problems({"transformers": "4.49.0", "trl": "1.16.0"})
['transformers 4.49.0 is too old: vlmr needs >= 5.0 (Qwen-VL processors and chat-template tool parsing); pip install -U "transformers>=5.0,<6"']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

# package -> (minimum, exclusive maximum or None, why, install hint)
REQUIREMENTS = {
    "transformers": ("5.0", "6", "Qwen-VL processors and chat-template tool parsing", 'pip install -U "transformers>=5.0,<6"'),
    # One minor release: vlmr.trl_compat patches trl 1.16 internals, so another trl is untested territory.
    "trl": ("1.16", "1.17", "GRPO environment_factory with multimodal tool results; vlmr.trl_compat is written "
            "for it", 'pip install "trl>=1.16,<1.17"'),
}
# The versions the test suite runs on (README "Tested versions").
TESTED = {"torch": "2.14.1", "torchvision": "0.29.1", "transformers": "5.25.0", "trl": "1.16.0", "vllm": "not tested (no GPU in CI)"}


def installed() -> dict[str, str]:
    """Installed versions of the packages vlmr checks (missing ones are left out)."""
    found = {}
    for name in REQUIREMENTS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def problems(versions: dict[str, str] | None = None) -> list[str]:
    """Messages for every installed version outside its supported range."""
    out = []
    for name, found in (installed() if versions is None else versions).items():
        low, high, why, fix = REQUIREMENTS[name]
        if Version(found) < Version(low):
            out.append(f"{name} {found} is too old: vlmr needs >= {low} ({why}); {fix}")
        elif high and Version(found) >= Version(high):
            out.append(f"{name} {found} is newer than vlmr supports (< {high}); {fix}")
    return out


def check_versions() -> None:
    """Raise ``RuntimeError`` listing every unsupported version (call before heavy work)."""
    found = problems()
    if found:
        raise RuntimeError("unsupported library versions:\n  " + "\n  ".join(found))
