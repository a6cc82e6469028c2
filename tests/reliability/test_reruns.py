"""``vlmr train`` into an output_dir that already holds a finished run: the same settings skip, other
settings are an error that says what changed, ``--overwrite`` trains again from scratch."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from vlmr import cli


@pytest.fixture
def finished(nano_model, dataset_of, sft_trainer, tmp_path):
    """A finished one-step SFT run; returns ``(config path, output dir)``."""
    out = tmp_path / "run"
    config = tmp_path / "sft.yaml"
    config.write_text(yaml.safe_dump({"model": nano_model, "output_dir": str(out),
                                      "datasets": [{"path": dataset_of("grounding", per_task=2)}],
                                      "trainer": sft_trainer}), encoding="utf-8")
    assert cli.main(["train", "sft", "--config", str(config)]) == 0
    return config, out


def settings(out) -> dict:
    return json.loads((out / "final" / "vlmr_meta.json").read_text(encoding="utf-8"))["settings"]


class TestRerunIntoAFinishedRun:
    def test_the_same_settings_skip_the_run(self, finished, caplog):
        config, out = finished
        written = (out / "final" / "vlmr_meta.json").stat().st_mtime_ns
        with caplog.at_level(logging.INFO):
            assert cli.main(["train", "sft", "--config", str(config)]) == 0
        assert f"stage main already finished at {out / 'final'} with the same settings; skipping" in caplog.text
        assert (out / "final" / "vlmr_meta.json").stat().st_mtime_ns == written

    def test_other_settings_are_an_error_naming_the_change(self, finished, capsys):
        config, out = finished
        assert cli.main(["train", "sft", "--config", str(config), "--trainer.learning_rate", "0.0005"]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert (f"vlmr: error: stage main already finished at {out / 'final'} with other settings "
                "(trainer.learning_rate: 0.001 -> 0.0005); train into a new output_dir, or pass --overwrite") in err
        assert settings(out)["trainer"]["learning_rate"] == 0.001

    def test_overwrite_trains_again_with_the_new_settings(self, finished):
        config, out = finished
        assert cli.main(["train", "sft", "--config", str(config), "--trainer.learning_rate", "0.0005",
                         "--overwrite"]) == 0
        assert settings(out)["trainer"]["learning_rate"] == 0.0005 and settings(out)["method"] == "sft"

    def test_resume_and_overwrite_together_are_refused(self, finished, capsys):
        config, _ = finished
        assert cli.main(["train", "sft", "--config", str(config), "--resume", "--overwrite"]) == 2
        assert "pass one of them" in capsys.readouterr().err
