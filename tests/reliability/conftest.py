"""The training fixtures of ``tests/train`` (nano model, tiny datasets, fast configs), shared here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("train_fixtures", Path(__file__).parents[1] / "train" / "conftest.py")
_train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_train)

nano_model = _train.nano_model
datasets_dir = _train.datasets_dir
dataset_of = _train.dataset_of
fast_trainer = _train.fast_trainer
sft_trainer = _train.sft_trainer
make_dataset_fixture = _train.make_dataset_fixture
