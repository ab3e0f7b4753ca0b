"""An analyst re-scores an export with `wall enrich`; the team teaches it with `wall sentiment fit`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def wall(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wall", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_wall_enrich_annotates_each_line_and_reports_a_broken_one_without_stopping():
    lines = ('{"text": "I love this phone, best camera ever!"}\nnot json\n'
             '{"text": "Battery died again #fail"}\n')
    done = wall("enrich", stdin=lines)
    assert done.returncode == 1  # one line could not be read
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["sentiment"]["label"] for o in out] == ["positive", "negative"]
    assert all(o["lang"] == "en" and "flags" in o and "topics" in o for o in out)
    assert '"line":2' in done.stderr


def test_wall_sentiment_fit_refuses_a_model_that_does_worse(tmp_path: Path):
    # Plain cases the shipped scorer already gets right: a model fitted on so few cannot beat it.
    good = ["love", "great", "wonderful", "amazing", "excellent", "fantastic", "awesome", "happy", "best",
            "brilliant"]
    bad = ["hate", "awful", "terrible", "horrible", "worst", "broken", "useless", "angry", "sad", "bad"]
    pairs = ([(f"This phone is {w}!", "positive") for w in good] + [(f"This phone is {w}.", "negative")
             for w in bad] + [(f"The phone arrived on day {n}.", "neutral") for n in range(10)])
    wrong = tmp_path / "labelled.jsonl"
    wrong.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in pairs))
    out = tmp_path / "sentiment_model.npz"
    done = wall("sentiment", "fit", str(wrong), "--out", str(out))
    assert done.returncode == 1, done.stderr
    assert "not saved" in done.stdout and "not better than current" in done.stdout
    assert not out.exists()
