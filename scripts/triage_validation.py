"""Choose the triage model's settings without touching a test set.

Prints actionable precision/recall/F1 for each (airline cap, C): by 4-fold cross-validation on
the railway train split (folds by a hash of the text), and on airline train rows outside every
cap (rows 6,000-8,000 after the training shuffle: another domain, never trained on here).

    python scripts/triage_validation.py --caps 0,1000,2000 --cs 0.5,1.0
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from sevadesk.config import get_settings
from sevadesk.triage import datasets
from sevadesk.triage.base import ACTIONABLE_KINDS
from sevadesk.triage.linear import LinearModel
from sevadesk.triage.model_triager import ModelTriager
from sevadesk.triage.training import cross_validate, fit, training_rows

FOLDS = 4


def _scores(model: LinearModel, examples: Sequence[datasets.Example]) -> tuple[int, int, int]:
    results = ModelTriager(model).triage_batch([e.text for e in examples])
    return _counts(examples, [r.actionable for r in results])


def _counts(examples: Sequence[datasets.Example], pred: Sequence[bool]) -> tuple[int, int, int]:
    gold = [e.kind in ACTIONABLE_KINDS for e in examples]
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    return tp, fp, fn


def _line(tp: int, fp: int, fn: int) -> str:
    p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return f"P {p:.3f} R {r:.3f} F1 {2 * p * r / max(p + r, 1e-9):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--caps", default="0,1000,2000")
    parser.add_argument("--cs", default="0.5")
    args = parser.parse_args()
    data = args.data_dir or get_settings().data_dir
    railway, airline = training_rows(data)
    seed = list(datasets.seed())
    validation = airline[6000:8000]
    for cap in (int(x) for x in args.caps.split(",")):
        for c in (float(x) for x in args.cs.split(",")):
            posts, results = cross_validate(railway, airline[:cap] + seed, c, FOLDS)
            cv = _counts(posts, [r.actionable for r in results])
            model = fit(railway + airline[:cap] + seed, c)
            print(
                f"cap {cap:>5} C {c:<4} railway-cv {_line(*cv)}   "
                f"airline-validation {_line(*_scores(model, validation))}",
                flush=True,
            )


if __name__ == "__main__":
    main()
