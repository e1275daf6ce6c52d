"""`seva train`: fit the triage model on ../shared/data, the seed set and agents' corrections.

Writes `models/triage-<version>.npz`, `models/triage-<version>.json` (how it was trained and
how it scored) and points `models/current.txt` at it. The model card (models/MODEL_CARD.md)
is regenerated from the JSON.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from sevadesk.store import tables as t
from sevadesk.triage import datasets, language
from sevadesk.triage import entities as entity_extractor
from sevadesk.triage.base import ACTIONABLE_KINDS, KINDS
from sevadesk.triage.evaluation import report
from sevadesk.triage.features import features
from sevadesk.triage.linear import LinearModel
from sevadesk.triage.model_triager import MODELS, ModelTriager

# Hand-written labels for evaluation live beside the code, outside the package.
EVALUATION_LABELS = Path(__file__).parents[3] / "evaluation"
# Airline posts outnumber everything else; a cap keeps them from drowning Indian posts. Chosen
# with C by validation, never the test sets (2026-11-26, scripts/triage_validation.py): 4-fold
# cross-validation on the railway train split gave actionable F1 0.778 / 0.765 / 0.755 / 0.739
# for caps 0 / 1,000 / 2,000 / 4,000, and airline train rows outside the cap (another domain)
# 0.786 / 0.882 / 0.891; 1,000 keeps most of both.
AIRLINE_CAP = 1000
MIN_COUNT = 2


@dataclass
class TrainingRun:
    model: LinearModel
    metrics: dict[str, Any]
    path: Path


def corrections(engine: Engine) -> list[datasets.Example]:
    """Agents' decisions as labels: a ticket an agent rejected was not actionable."""
    e, m = t.ticket_events.c, t.messages.c
    query = (
        select(m.text, e.after)
        .join(t.messages, (m.ticket_id == e.ticket_id) & (m.direction == "in"))
        .where(e.action == "status_changed", e.actor.like("user:%"))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        datasets.Example(text, "noise", "corrections", "train")
        for text, after in rows
        if (after or {}).get("status") == "rejected"
    ]


def featurize(texts: Iterable[str]) -> list[list[str]]:
    out = []
    for text in texts:
        ents = entity_extractor.extract(text)
        out.append(features(text, ents, language.detect(text)))
    return out


# Team-written seed posts are few but are the only Hindi, romanised-Hindi, SOS and spam
# examples with clean labels; each counts as this many.
SEED_WEIGHT = 3.0


def fit(examples: Sequence[datasets.Example], c: float) -> LinearModel:
    """A model over `examples` (seed posts weigh SEED_WEIGHT), unversioned: `train` names it."""
    from sklearn.linear_model import LogisticRegression

    feats = featurize(e.text for e in examples)
    counts = Counter(f for fs in feats for f in set(fs))
    vocab = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_COUNT))}
    classes = tuple(k for k in KINDS if any(e.kind == k for e in examples))
    probe = LinearModel(
        "training",
        classes,
        vocab,
        np.zeros((len(vocab), len(classes)), np.float32),
        np.zeros(len(classes), np.float32),
    )
    x = probe.matrix(feats)
    y = np.array([classes.index(e.kind) for e in examples])
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    weights = np.array([SEED_WEIGHT if e.source == "seed" else 1.0 for e in examples])
    clf.fit(x, y, sample_weight=weights)
    return LinearModel(
        "training",
        classes,
        vocab,
        clf.coef_.T.astype(np.float32).copy(),
        clf.intercept_.astype(np.float32),
    )


def _evaluate(triager: ModelTriager, tests: dict[str, list[datasets.Example]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pooled_gold: list[str] = []
    pooled_pred: list[str] = []
    for name, examples in tests.items():
        results = triager.triage_batch([e.text for e in examples])
        gold_sos = ["sos" if e.sos else "other" for e in examples]
        pred_sos = ["sos" if r.kind == "sos" else "other" for r in results]
        gold_act = ["actionable" if e.kind in ACTIONABLE_KINDS else "not" for e in examples]
        pred_act = ["actionable" if r.actionable else "not" for r in results]
        section: dict[str, Any] = {
            "actionable": report(gold_act, pred_act, ["actionable", "not"]).as_dict(),
            "kind": report([e.kind for e in examples], [r.kind for r in results]).as_dict(),
            "by_language": {},
        }
        if any(e.sos is not None for e in examples):
            section["sos"] = report(gold_sos, pred_sos, ["sos", "other"]).as_dict()
            pooled_gold += gold_sos
            pooled_pred += pred_sos
        for lang in ("en", "hi", "hi-Latn"):
            idx = [i for i, r in enumerate(results) if r.language == lang]
            if idx:
                section["by_language"][lang] = report(
                    [gold_act[i] for i in idx], [pred_act[i] for i in idx], ["actionable", "not"]
                ).as_dict()
        out[name] = section
    # Each set holds only a handful of SOS posts; together they say more than any one of them.
    out["sos-pooled"] = {"sos": report(pooled_gold, pooled_pred, ["sos", "other"]).as_dict()}
    return out


def train(
    data_dir: Path,
    engine: Engine | None = None,
    out_dir: Path = MODELS,
    c: float = 0.5,
    seed: int = 13,
    airline_cap: int = AIRLINE_CAP,
    customer_support: bool = False,
) -> TrainingRun:
    started = time.perf_counter()
    railway = list(datasets.railway_llm(data_dir))
    air = list(datasets.airline(data_dir))
    rng = random.Random(seed)
    air_train = [e for e in air if e.split == "train"]
    rng.shuffle(air_train)
    train_set = (
        [e for e in railway if e.split == "train"]
        + air_train[:airline_cap]
        + (list(datasets.customer_support(data_dir)) if customer_support else [])
        + list(datasets.seed())
        + (corrections(engine) if engine is not None else [])
    )
    labels = EVALUATION_LABELS
    tests = {
        "railway-test": list(datasets.railway_test(data_dir, labels / "railway_test_labels.yaml")),
        "helpdesk-2024": list(
            datasets.helpdesk_2024(data_dir, labels / "helpdesk_2024_labels.yaml")
        ),
        "airline-test": [e for e in air if e.split == "test"],
        "helpdesk-2017": list(
            datasets.helpdesk_2017(data_dir, labels / "helpdesk_2017_labels.yaml")
        ),
    }
    train_texts = {e.text.strip().lower() for e in train_set}
    for name, examples in tests.items():
        tests[name] = [e for e in examples if e.text.strip().lower() not in train_texts]

    model = fit(train_set, c)
    digest = hashlib.sha256(model.weights.tobytes()).hexdigest()[:8]
    model.version = f"triage-lr-{datetime.now(UTC):%Y%m%d}-{digest}"
    metrics = _evaluate(ModelTriager(model), tests)
    info = {
        "version": model.version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "algorithm": f"multinomial logistic regression (scikit-learn, C={c}, class_weight=balanced) over "
        f"{len(model.vocabulary):,} binary features (words, word pairs, 5-char stems, entity and shape signals)",
        "train_examples": dict(Counter(e.source for e in train_set)),
        "train_kinds": dict(Counter(e.kind for e in train_set)),
        "test_examples": {k: len(v) for k, v in tests.items()},
        "metrics": metrics,
        "seconds": round(time.perf_counter() - started, 1),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{model.version}.npz"
    model.save(path)
    (out_dir / f"{model.version}.json").write_text(
        json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    )
    (out_dir / "current.txt").write_text(path.name + "\n")
    return TrainingRun(model, info, path)
