"""How far two readings of the railway test split agree on "actionable", and how the shipped
model scores against each.

The first reading (evaluation/railway_test_labels.yaml) is the scored one; the second
(evaluation/railway_test_second_reading.yaml) was made blind to it. Their agreement is the
ceiling a model can be expected to reach on these labels.

    python scripts/label_agreement.py
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

from sevadesk.config import get_settings
from sevadesk.triage import datasets
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.model_triager import ModelTriager

EVALUATION = Path(__file__).parents[1] / "evaluation"


def _scores(gold: set[int], pred: set[int], rows: int) -> str:
    tp = len(gold & pred)
    p, r = tp / max(len(pred), 1), tp / max(len(gold), 1)
    observed = (rows - len(gold ^ pred)) / rows
    chance = (len(gold) * len(pred) + (rows - len(gold)) * (rows - len(pred))) / rows**2
    kappa = (observed - chance) / (1 - chance)
    return f"P {p:.3f} R {r:.3f} F1 {2 * p * r / max(p + r, 1e-9):.3f} kappa {kappa:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data = args.data_dir or get_settings().data_dir
    first = datasets.row_kinds(
        yaml.safe_load((EVALUATION / "railway_test_labels.yaml").read_text(encoding="utf-8"))
    )
    spec = yaml.safe_load(
        (EVALUATION / "railway_test_second_reading.yaml").read_text(encoding="utf-8")
    )
    second = {int(i) for i in spec["actionable"]}
    texts: dict[int, str] = {}
    with (data / spec["source"]).open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if datasets.split_of(row["text"]) == "test":
                texts[int(row["index"])] = row["text"].strip()
    rows = sorted(texts)
    gold = {i for i in rows if first.get(i, "noise") in ACTIONABLE_KINDS}
    results = ModelTriager().triage_batch([texts[i] for i in rows])
    model = {i for i, r in zip(rows, results, strict=True) if r.actionable}
    print(f"{len(rows)} rows; actionable: first {len(gold)}, second {len(second)}")
    print(f"second reading against the first: {_scores(gold, second, len(rows))}")
    print(f"model against the first reading:  {_scores(gold, model, len(rows))}")
    print(f"model against the second reading: {_scores(second, model, len(rows))}")


if __name__ == "__main__":
    main()
