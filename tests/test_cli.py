import subprocess
import sys

import pytest

from vlmr.cli import main


class TestCli:
    def test_help_lists_every_command_without_heavy_imports(self):
        code = ("import sys; from vlmr.cli import build_parser; build_parser(); "
                "heavy = [m for m in ('torch', 'transformers', 'trl', 'gradio') if m in sys.modules]; print(heavy)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip() == "[]"  # `vlmr --help` stays instant

    @pytest.mark.parametrize("command", ["model", "data", "train", "quickstart", "infer", "eval", "demo"])
    def test_every_command_has_help(self, command, capsys):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: vlmr" in capsys.readouterr().out

    @pytest.mark.parametrize("command", [["infer"], ["eval", "run"]])
    def test_tools_help_names_import_paths(self, command, capsys):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        assert "tool sets (e.g. zoom_in,draw_box or image)" in help_text
        assert "import path (package.module:function)" in help_text

    def test_unknown_override_is_an_error(self, capsys):
        with pytest.raises(SystemExit):
            main(["model", "init-tiny", "x", "--bogus", "1"])
        assert "unrecognized arguments: --bogus 1" in capsys.readouterr().err

    def test_data_build_list_prints_each_summary_whole(self, capsys):
        from vlmr.data_pipelines.sources import list_sources

        assert main(["data", "build", "list"]) == 0
        blocks = dict(line.split(maxsplit=1) for line in capsys.readouterr().out.splitlines())
        assert sorted(blocks) == list_sources()
        assert all(text.endswith(".") and "``" not in text and ":func:" not in text for text in blocks.values())
        assert blocks["slake"] == "Medical VQA from VQA-RAD or SLAKE as released, or a Hub copy of either; records say which."
        assert blocks["charades_sta"] == ("Charades-STA temporal grounding (charades_sta_{train,test}.txt lines "
                                          "VID s e##sentence).")
