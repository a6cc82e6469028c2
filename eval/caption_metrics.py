"""Corpus-level captioning metrics with ``pycocoevalcap``, as ScanQA's ``scripts/score.py`` reports them.

The answers are tokenised with the PTB tokenizer (lower-cased, punctuation tokens dropped)
and scored as one corpus: ``bleu_1`` ... ``bleu_4``, ``meteor``, ``rouge_l``, ``cider`` (each
0-1, where ScanQA prints x100). BLEU and CIDEr are corpus statistics (n-gram counts and
document frequencies over all answers), not means of per-question scores.

The PTB tokenizer and METEOR run Java (``scripts/setup_java.sh`` installs a headless JRE).
Without ``java`` METEOR is left out and the other metrics use a Python tokenizer that
lower-cases and drops the same punctuation tokens (words like "don't" split differently from
PTB's); :func:`caption_metrics` says so in its notes.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from collections.abc import Sequence

PTB_PUNCTUATION = {"''", "'", "``", "`", "-lrb-", "-rrb-", "-lcb-", "-rcb-", ".", "?", "!", ",", ":", "-", "--",
                   "...", ";"}  # the tokens pycocoevalcap's PTBTokenizer removes
NO_JAVA = "java not found (scripts/setup_java.sh installs a headless JRE)"


def java_missing_note() -> str | None:
    """Why the Java parts (PTB tokenizer, METEOR) cannot run, or ``None`` when they can."""
    return None if shutil.which("java") else NO_JAVA


def _python_tokenize(text: str) -> str:
    """Lower-case words and symbols, PTB punctuation tokens dropped (the no-Java stand-in).

    >>> _python_tokenize("In the corner, near the door.")
    'in the corner near the door'
    """
    tokens = re.findall(r"[\w'-]+|[^\w\s]", text.lower())
    return " ".join(t for t in tokens if t not in PTB_PUNCTUATION)


def caption_metrics(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> tuple[dict[str, float], list[str]]:
    """BLEU-1..4, METEOR, ROUGE-L and CIDEr of ``predictions[i]`` against ``references[i]`` (all of them).

    Returns:
        ``(metrics, notes)``: the scores (METEOR absent without Java) and notes on what could not run.

    Raises:
        ImportError: pycocoevalcap is not installed (``pip install 'vlmr[scene3d]'``).
    """
    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.rouge.rouge import Rouge
    except ImportError as e:
        raise ImportError("ScanQA's caption metrics need pycocoevalcap: pip install 'vlmr[scene3d]'") from e
    if not predictions:
        return {}, []
    gts = {i: [{"caption": str(r)} for r in refs] for i, refs in enumerate(references)}
    res = {i: [{"caption": str(p)}] for i, p in enumerate(predictions)}
    missing = java_missing_note()
    if missing:
        gts = {i: [_python_tokenize(c["caption"]) for c in v] for i, v in gts.items()}
        res = {i: [_python_tokenize(c["caption"]) for c in v] for i, v in res.items()}
        notes = [f"METEOR not computed: {missing}; BLEU/ROUGE-L/CIDEr tokenized in Python, not by the PTB tokenizer"]
    else:
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

        both = PTBTokenizer().tokenize({**{("gt", i): v for i, v in gts.items()},  # one JVM run for both sides
                                        **{("res", i): v for i, v in res.items()}})
        gts = {i: both[("gt", i)] for i in gts}
        res = {i: both[("res", i)] for i in res}
        notes = []
    with contextlib.redirect_stdout(io.StringIO()):  # pycocoevalcap prints its progress
        bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
        rouge, _ = Rouge().compute_score(gts, res)
        cider, _ = Cider().compute_score(gts, res)
    metrics = {f"bleu_{n}": float(v) for n, v in enumerate(bleu, 1)}
    metrics.update(rouge_l=float(rouge), cider=float(cider))
    if not missing:
        from pycocoevalcap.meteor.meteor import Meteor

        metrics["meteor"] = float(Meteor().compute_score(gts, res)[0])
    return metrics, notes
