"""`seva triage`, `seva eval` and `seva train` as other tools and people call them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sevadesk.config import get_settings
from sevadesk.triage.training import train

KEYS = {
    "id",
    "language",
    "actionable",
    "score",
    "kind",
    "category",
    "urgency",
    "entities",
    "masked_text",
}


def seva(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sevadesk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_triage_keeps_order_masks_and_reports_bad_lines() -> None:
    lines = [
        json.dumps({"id": "a", "text": "@RailMinIndia no water in B4 of 12951, call 9876543210"}),
        "{broken",
        json.dumps({"id": 7, "text": "Thanks for the help"}),
        json.dumps({"id": "c"}),
        json.dumps({"id": "d", "text": "ट्रेन 12555 में बहुत गंदगी है"}),
    ]
    result = seva("triage", "--workers", "2", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", None, 7, "c", "d"]
    assert set(out[0]) == KEYS
    assert "9876543210" not in out[0]["masked_text"] and "12951" in out[0]["masked_text"]
    assert out[1]["error"].startswith("not JSON")
    assert "text" in out[3]["error"]
    assert out[4]["language"] == "hi"


def test_eval_prints_per_class_scores_and_confusion(tmp_path: Path) -> None:
    labelled = tmp_path / "gold.csv"
    labelled.write_text(
        "text,actionable,kind\n"
        '"@RailMinIndia toilet choked in S3 of 12004, PNR 4512345678",true,grievance\n'
        '"Great job @RailMinIndia, thank you",false,feedback\n'
        '"@RailMinIndia passenger unconscious in B1 of 12951, need doctor",1,sos\n'
    )
    result = seva("eval", str(labelled))
    assert result.returncode == 0, result.stderr
    assert "actionable (n=3" in result.stdout
    assert "kind (n=3" in result.stdout and "confusion" in result.stdout


def test_eval_names_the_line_of_a_bad_label(tmp_path: Path) -> None:
    labelled = tmp_path / "gold.jsonl"
    labelled.write_text(
        '{"text": "fine", "actionable": true}\n{"text": "bad", "actionable": "maybe"}\n'
    )
    result = seva("eval", str(labelled))
    assert result.returncode == 2
    assert f"{labelled}:2" in result.stderr


@pytest.mark.skipif(not get_settings().data_dir.is_dir(), reason="../shared/data not found")
def test_training_writes_a_loadable_model_with_its_scores(tmp_path: Path) -> None:
    run = train(get_settings().data_dir, out_dir=tmp_path)
    assert (tmp_path / "current.txt").read_text().strip() == run.path.name
    recorded = json.loads((tmp_path / f"{run.model.version}.json").read_text())
    assert recorded["test_examples"]["railway-test"] > 400
    assert recorded["train_examples"]["seed"] > 100
    actionable = recorded["metrics"]["railway-test"]["actionable"]["per_class"]["actionable"]
    assert actionable["f1"] > 0.6  # the floor the baseline (0.60) set; see the model card


def test_an_agents_rejection_becomes_a_training_label(pipeline, org_engine, clock) -> None:  # type: ignore[no-untyped-def]
    from sevadesk.store.users_repo import actor_by_username
    from sevadesk.tickets.actions import change_status
    from sevadesk.triage.training import corrections
    from tests.factories import lines, tweet

    text = "@RailMinIndia coach S3 of 12004 has no water, PNR 4512345678"
    pipeline.ingest("x", "test", lines(tweet(text)))
    with org_engine.begin() as conn:
        agent = actor_by_username(conn, "rly.agent")
        assert agent is not None
        change_status(
            conn, agent, "RLY-000001", "rejected", "duplicate of a RailMadad complaint", clock.now()
        )
    assert [(e.text, e.kind, e.source) for e in corrections(org_engine)] == [
        (text, "noise", "corrections")
    ]
