"""The bot process serves without scikit-learn and scipy: they are loaded only by the training
job (a child process), and the bot scores with the compact form of the model (numpy)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, sys
from pathlib import Path

import bot.cli  # what `helpdesk run` imports: the CLI, the app, every service
import bot.app
from bot.adapters.triage_model import ModelTriage
from bot.services.canned import text_index
from bot.services.training import load_or_train
from triage.similar import SimilarIndex, similarity_vectors

model, version, note = load_or_train(Path(sys.argv[1]))
classifier = ModelTriage(model, version)
verdict = asyncio.run(classifier.classify("I was charged twice for my subscription"))
thanks = asyncio.run(classifier.acknowledges("спасибо, всё работает"))
problem = asyncio.run(classifier.acknowledges("спасибо, но карта всё ещё не работает"))
canned = text_index(("We issued a refund", "Reset your password")).scores("refund please")
index = SimilarIndex()
index.add([1, 2], ["card charged twice", "parcel never arrived"])
similar = [hit.key for hit in index.search("charged twice on my card", k=1)]
gram = similarity_vectors(["a", "b"]).gram().shape
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy", "joblib"})
print(json.dumps({
    "note": note, "category": verdict.category, "thanks": thanks, "problem": problem,
    "canned_first": canned[0] > canned[1], "similar": similar, "loaded": loaded,
}))
"""


def run(model_dir: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(model_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_training_scoring_and_indexes_without_scikit_learn_in_the_bot(tmp_path: Path) -> None:
    first = run(tmp_path / "models")  # a fresh install: the job trains the default model
    assert "trained the default model" in str(first["note"])
    assert first["category"] == "billing"
    assert first["thanks"] is True
    assert first["problem"] is False
    assert first["canned_first"] is True
    assert first["similar"] == [1]
    assert first["loaded"] == []

    again = run(tmp_path / "models")  # a restart loads the saved compact form
    assert again["note"] == "loaded"
    assert again["loaded"] == []


def test_a_model_saved_before_the_compact_form_is_exported_by_the_job(tmp_path: Path) -> None:
    run(tmp_path / "models")
    current = (tmp_path / "models" / "current").read_text().strip()
    version = tmp_path / "models" / "versions" / current
    meta = json.loads((version / "meta.json").read_text())
    for name in ("compact.npz", "compact.json"):
        del meta["files"][name]
        (version / name).unlink()
    (version / "meta.json").write_text(json.dumps(meta))

    after = run(tmp_path / "models")
    assert after["note"] == "exported the compact form of the saved model"
    assert after["loaded"] == []
    assert (version / "compact.npz").is_file()
