"""How far two readings of the railway test split agree on "actionable", and how the shipped
model scores against each.

The first reading (evaluation/railway_test_labels.yaml) is the scored one; the second
(evaluation/railway_test_second_reading.yaml, rows listed under `actionable`) was made blind
to it. Their agreement is the ceiling a model can be expected to reach on these labels.

    python scripts/label_agreement.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sevadesk.config import get_settings
from sevadesk.triage import datasets
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.evaluation import report
from sevadesk.triage.model_triager import ModelTriager

EVALUATION = Path(__file__).parents[1] / "evaluation"
LABELS = ["actionable", "not"]


def _line(gold: list[str], pred: list[str]) -> str:
    rep = report(gold, pred, LABELS)
    a = rep.per_class["actionable"]
    # Cohen's kappa: agreement beyond what the two sides' rates would give by chance.
    m, n = rep.confusion, rep.support
    observed = sum(m[k][k] for k in LABELS) / n
    chance = sum(sum(m[k].values()) * sum(row[k] for row in m.values()) for k in LABELS) / n**2
    kappa = (observed - chance) / (1 - chance)
    return f"P {a['precision']:.3f} R {a['recall']:.3f} F1 {a['f1']:.3f} kappa {kappa:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data = args.data_dir or get_settings().data_dir
    first = list(datasets.railway_test(data, EVALUATION / "railway_test_labels.yaml"))
    second = list(datasets.railway_test(data, EVALUATION / "railway_test_second_reading.yaml"))
    gold = ["actionable" if e.kind in ACTIONABLE_KINDS else "not" for e in first]
    again = [e.kind for e in second]  # "actionable" or the file's default, "not"
    results = ModelTriager().triage_batch([e.text for e in first])
    model = ["actionable" if r.actionable else "not" for r in results]
    print(
        f"{len(first)} rows; actionable: first {gold.count('actionable')}, second {again.count('actionable')}"
    )
    print(f"second reading against the first: {_line(gold, again)}")
    print(f"model against the first reading:  {_line(gold, model)}")
    print(f"model against the second reading: {_line(again, model)}")


if __name__ == "__main__":
    main()
