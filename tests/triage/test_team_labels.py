"""The team's relabelled sets: a label is applied only to the text it was written for."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sevadesk.triage import team_labels
from sevadesk.triage.team_labels import LabelMismatch, Source, fingerprint

MUMBAI = Source("mumbai-2019", "mumbai/tweets.csv", "text")
HEADER = "row\tfp\tkind\tlanguage\tsos_type\treader\n"


def _shared(data: Path, texts: list[str]) -> None:
    path = data / MUMBAI.path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["tweet_id", "text", "complaint", "category"])
        out.writerows((i, text, 0, 0) for i, text in enumerate(texts))


def _labels(labels: Path, name: str, rows: list[tuple[int, str, str]]) -> None:
    folder = labels / "mumbai-2019"
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{row}\t{fp}\t{kind}\ten\t\tann-x\n" for row, fp, kind in rows)
    (folder / name).write_text(f"# {name}\n{HEADER}{body}", encoding="utf-8")


def _read(data: Path, labels: Path) -> list[tuple[str, str]]:
    return [(e.text, e.kind) for e in team_labels.relabelled(data, labels, (MUMBAI,))]


TEXTS = ["@mybmc garbage not collected in ward 8 for a week", "Save Aarey #SaveAarey"]


def test_the_settled_reading_overrides_the_first(tmp_path: Path) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    _shared(data, TEXTS)
    _labels(
        labels,
        "first.tsv",
        [(0, fingerprint(TEXTS[0]), "noise"), (1, fingerprint(TEXTS[1]), "noise")],
    )
    _labels(labels, "settled.tsv", [(0, fingerprint(TEXTS[0]), "grievance")])

    assert _read(data, labels) == [(TEXTS[0], "grievance"), (TEXTS[1], "noise")]


def test_a_label_on_a_changed_row_is_an_error_not_a_silent_label(tmp_path: Path) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    _labels(
        labels,
        "first.tsv",
        [(0, fingerprint(TEXTS[0]), "grievance"), (1, fingerprint(TEXTS[1]), "noise")],
    )
    _shared(data, list(reversed(TEXTS)))  # the shared file was re-sorted after labelling

    with pytest.raises(LabelMismatch, match=r"mumbai-2019/first.tsv: row 0 has fingerprint"):
        _read(data, labels)


def test_a_label_for_a_row_the_file_does_not_have_is_an_error(tmp_path: Path) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    _shared(data, TEXTS)
    _labels(labels, "first.tsv", [(2, fingerprint("gone"), "grievance")])

    with pytest.raises(LabelMismatch, match="row 2 is not in the shared file"):
        _read(data, labels)


def test_a_repeated_text_read_once_keeps_its_label_and_its_split(tmp_path: Path) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    texts = [*TEXTS, "@MYBMC  Garbage not collected in ward 8 for a week"]
    _shared(data, texts)
    read_once = fingerprint(texts[0])  # the copy the reader saw; the other carries its print
    _labels(
        labels,
        "first.tsv",
        [
            (0, read_once, "grievance"),
            (1, fingerprint(texts[1]), "noise"),
            (2, read_once, "grievance"),
        ],
    )

    examples = list(team_labels.relabelled(data, labels, (MUMBAI,)))

    assert [e.kind for e in examples] == ["grievance", "noise", "grievance"]
    assert examples[0].split == examples[2].split
    assert examples[0].group == "municipal"


def test_an_sos_set_label_overrides_the_rows_own(tmp_path: Path) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    texts = ["@MumbaiPolice men drinking in the ladies coach of the 9:10 Virar local", TEXTS[1]]
    _shared(data, texts)
    _labels(
        labels,
        "first.tsv",
        [(0, fingerprint(texts[0]), "grievance"), (1, fingerprint(texts[1]), "noise")],
    )
    sos = labels / "sos-set"
    sos.mkdir()
    (sos / "ann-j.tsv").write_text(
        "# sos\nref\tfp\tkind\tlanguage\tsos_type\treader\n"
        f"mumbai-2019:0\t{fingerprint(texts[0])}\tsos\ten\tharassment\tann-j\n",
        encoding="utf-8",
    )
    # The SOS set reads the Mumbai file at its real path.
    real = data / team_labels.SOURCES["mumbai-2019"].path
    real.parent.mkdir(parents=True)
    real.write_bytes((data / MUMBAI.path).read_bytes())

    examples = list(team_labels.relabelled(data, labels, (MUMBAI,)))

    assert [(e.kind, e.sos, e.group) for e in examples] == [
        ("sos", True, "police/traffic"),
        ("noise", False, "other"),
    ]


def test_the_shipped_labels_match_the_shared_data() -> None:
    data = Path(__file__).parents[3] / "shared" / "data"
    if not (data / team_labels.RELABELLED[0].path).exists():
        pytest.skip("../shared/data is not here")
    examples = list(team_labels.relabelled(data))
    assert len(examples) > 11_000
    sos = [e for e in team_labels.sos_set(data) if e.sos]
    assert len(sos) == 172
