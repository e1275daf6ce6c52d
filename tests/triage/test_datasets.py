"""The labelled sets: a later reading of a row wins, and a repeated tweet is scored once."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from sevadesk.config import get_settings
from sevadesk.triage import datasets


def _write_railway(data: Path, rows: list[tuple[int, str, int]]) -> None:
    path = data / datasets.RAILWAY_FILE
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["index", "text", "year", "is_complaint_true"])
        out.writerows((i, text, 2024, flag) for i, text, flag in rows)


def _train_texts(n: int) -> list[str]:
    texts = (f"@RailMinIndia train {i} is late today" for i in range(100))
    return [t for t in texts if datasets.split_of(t) == "train"][:n]


def test_the_review_overrides_earlier_readings(tmp_path: Path) -> None:
    a, b, c = _train_texts(3)
    _write_railway(tmp_path, [(1, a, 1), (2, b, 0), (3, c, 1)])
    relabel = tmp_path / "relabel.yaml"
    relabel.write_text("noise: [1]\n")
    reread = tmp_path / "reread.yaml"
    reread.write_text("grievance: [2]\n")
    review = tmp_path / "review.yaml"
    review.write_text("grievance: [1]\nquery: [2]\n")

    kinds = [e.kind for e in datasets.railway_llm(tmp_path, relabel, reread, review)]

    assert kinds == ["grievance", "query", "grievance"]  # row 3: the LLM's complaint stands


def test_airline_complaints_nobody_could_place_are_general_criticism(tmp_path: Path) -> None:
    source = tmp_path / "us-airline-sentiment" / "Tweets.csv"
    source.parent.mkdir()
    with source.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["airline_sentiment", "negativereason", "text"])
        out.writerow(["negative", "Lost Luggage", "@united my bag never arrived in DEN"])
        out.writerow(["negative", "Can't Tell", "@united Worst airline ever?"])
        out.writerow(["neutral", "", "@united do you fly to Austin?"])
        out.writerow(["positive", "", "@united thanks for the upgrade"])

    kinds = [e.kind for e in datasets.airline(tmp_path)]

    assert kinds == ["grievance", "noise", "query", "feedback"]


def test_helpdesk_2024_scores_a_repeated_tweet_once(tmp_path: Path) -> None:
    source = tmp_path / "helpdesk" / "raw_data.csv"
    source.parent.mkdir()
    with source.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["twitterUrl", "url", "id", "text", "createdAt"])
        for text in ["coach B4 has no water", "Matter forwarded to DRM", "coach B4 has no water"]:
            out.writerow(["", "", "", text, ""])
    labels = tmp_path / "labels.yaml"
    labels.write_text("source: helpdesk/raw_data.csv\ndefault: noise\ngrievance: [0, 2]\n")

    examples = list(datasets.helpdesk_2024(tmp_path, labels))

    assert [(e.text, e.kind) for e in examples] == [
        ("coach B4 has no water", "grievance"),
        ("Matter forwarded to DRM", "noise"),
    ]


def test_helpdesk_2017_reads_rows_by_line_number_without_a_header(tmp_path: Path) -> None:
    source = tmp_path / "helpdesk" / "tweets.csv"
    source.parent.mkdir()
    with source.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["emergency", "bag stolen from S4, pnr 4512791357"],
                ["feedback", "fan not working in B2"],
                ["emergency", "bag stolen from S4, pnr 4512791357"],
                ["feedback", "Matter forwarded to DRM"],
            ]
        )
    labels = tmp_path / "labels.yaml"
    labels.write_text("source: helpdesk/tweets.csv\nsos: [0]\ngrievance: [1]\n")

    examples = list(datasets.helpdesk_2017(tmp_path, labels))

    assert [(e.kind, e.sos) for e in examples] == [
        ("sos", True),
        ("grievance", False),
        ("noise", False),
    ]


EVALUATION = Path(__file__).parents[2] / "evaluation"


@pytest.mark.skipif(not get_settings().data_dir.is_dir(), reason="../shared/data not found")
@pytest.mark.parametrize("name", ["railway_test_labels.yaml", "railway_test_second_reading.yaml"])
def test_every_row_a_railway_test_reading_lists_is_in_the_test_split(name: str) -> None:
    spec = yaml.safe_load((EVALUATION / name).read_text(encoding="utf-8"))
    listed = datasets._row_kinds(spec)
    read = list(datasets.railway_test(get_settings().data_dir, EVALUATION / name))
    # A listed row outside the test split (a typo) would be silently ignored, not scored.
    assert sum(e.kind != spec["default"] for e in read) == len(listed)


@pytest.mark.skipif(not get_settings().data_dir.is_dir(), reason="../shared/data not found")
@pytest.mark.parametrize(
    "path",
    [datasets.RELABEL, datasets.REREAD, datasets.REVIEW, datasets.REST],
    ids=lambda p: p.name,
)
def test_every_row_a_train_reading_lists_is_in_the_train_split(path: Path) -> None:
    listed = datasets._row_kinds(yaml.safe_load(path.read_text(encoding="utf-8")))
    with (get_settings().data_dir / datasets.RAILWAY_FILE).open(encoding="utf-8-sig") as fh:
        split = {int(r["index"]): datasets.split_of(r["text"]) for r in csv.DictReader(fh)}
    # A test-split row listed here would be ignored in training; an unknown one is a typo.
    assert {row: split.get(row) for row in listed if split.get(row) != "train"} == {}
