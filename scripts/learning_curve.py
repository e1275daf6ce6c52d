"""How actionable F1 grows with the number of labelled railway posts the model is trained on.

For each share of the railway train split (the airline rows and seed posts always included):
4-fold cross-validation on the railway train split, each fold's model trained on that share of
the other folds, and railway-test F1 of a model trained on that share of the whole split. Below
the full share each figure is the mean of three random draws. It reads the test split only to
report, as `seva train` does; nothing here chooses a setting.

    python scripts/learning_curve.py

On 2026-11-26 (model triage-lr-20261126-4307d5b7's recipe) it printed:

    railway posts   439  railway-cv F1 0.745  railway-test F1 0.708
    railway posts   878  railway-cv F1 0.770  railway-test F1 0.731
    railway posts  1317  railway-cv F1 0.780  railway-test F1 0.774
    railway posts  1757  railway-cv F1 0.802  railway-test F1 0.791

Still rising, by about 0.03 (cross-validation) to 0.06 (test) each time the posts double:
the model is short of labelled Indian posts, and ../shared/data holds no more of them.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from sevadesk.config import get_settings
from sevadesk.triage import datasets
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.training import (
    AIRLINE_CAP,
    EVALUATION_LABELS,
    fit,
    fold_of,
    training_rows,
)

FOLDS = 4
C = 0.5


def _counts(model_examples: list[datasets.Example], test: list[datasets.Example]) -> list[int]:
    results = ModelTriager(fit(model_examples, C)).triage_batch([e.text for e in test])
    gold = [e.kind in ACTIONABLE_KINDS for e in test]
    pred = [r.actionable for r in results]
    return [
        sum(g and p for g, p in zip(gold, pred, strict=True)),
        sum(p and not g for g, p in zip(gold, pred, strict=True)),
        sum(g and not p for g, p in zip(gold, pred, strict=True)),
    ]


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / max(2 * tp + fp + fn, 1)


def per_source(data: Path, shares: list[float]) -> None:
    """`--per-source`: each share of the team's labelled training rows (every source's train
    split, the railway one included; airline rows and seed posts always in), one draw, scored
    on each kind of agency's test split with the shipped decision rules at the 0.5 line."""
    from sevadesk.triage import team_labels
    from sevadesk.triage.training import _decontaminated, _sos_overrides, team_rows

    railway, airline = training_rows(data)
    team, tests = team_rows(data)
    tests["railway-test"] = list(
        datasets.railway_test(data, EVALUATION_LABELS / "railway_test_labels.yaml")
    )
    groups: dict[str, list[datasets.Example]] = {"railways": list(tests["railway-test"])}
    for name in ("delhi-2016", "mumbai-2019", "transport-grievance", "transport-sentiment"):
        for e in tests[name]:
            if e.group in ("railways", "police/traffic", "municipal", "transport"):
                groups.setdefault(e.group, []).append(e)
    labelled = _decontaminated([*railway, *team], tests, _sos_overrides(data, team_labels.LABELS))
    extra = airline[:AIRLINE_CAP] + list(datasets.seed())
    for share in shares:
        subset = random.Random(0).sample(labelled, int(len(labelled) * share))
        model = fit(subset + extra, C)
        scores = []
        for group, examples in groups.items():
            results = ModelTriager(model).triage_batch([e.text for e in examples])
            gold = [e.kind in ACTIONABLE_KINDS for e in examples]
            pred = [r.actionable for r in results]
            tp = sum(g and p for g, p in zip(gold, pred, strict=True))
            fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
            fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
            scores.append(f"{group} {_f1(tp, fp, fn):.3f}")
        print(f"labelled posts {len(subset):>6}  " + "  ".join(scores), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--shares", default="0.25,0.5,0.75,1")
    parser.add_argument(
        "--per-source", action="store_true", help="the team's labelled sets, per kind of agency"
    )
    args = parser.parse_args()
    data = args.data_dir or get_settings().data_dir
    if args.per_source:
        per_source(data, [float(x) for x in args.shares.split(",")])
        return
    railway, airline = training_rows(data)
    extra = airline[:AIRLINE_CAP] + list(datasets.seed())
    test = list(datasets.railway_test(data, EVALUATION_LABELS / "railway_test_labels.yaml"))
    for share in (float(x) for x in args.shares.split(",")):
        draws = 1 if share >= 1 else 3
        cv_total, test_total = 0.0, 0.0
        for draw in range(draws):
            rng = random.Random(draw)
            counts = [0, 0, 0]
            for k in range(FOLDS):
                fold = [e for e in railway if fold_of(e.text, FOLDS) == k]
                rest = [e for e in railway if fold_of(e.text, FOLDS) != k]
                rest = rng.sample(rest, int(len(rest) * share))
                counts = [a + b for a, b in zip(counts, _counts(rest + extra, fold), strict=True)]
            cv_total += _f1(*counts)
            subset = rng.sample(railway, int(len(railway) * share))
            test_total += _f1(*_counts(subset + extra, test))
        print(
            f"railway posts {int(len(railway) * share):>5}  "
            f"railway-cv F1 {cv_total / draws:.3f}  railway-test F1 {test_total / draws:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
