"""Category taxonomy and admin rules: transparent, editable, and they win where they match."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from sevadesk.triage.text import Lexicon

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")


@lru_cache(maxsize=8)
def _taxonomy_file(path: Path) -> dict[str, Any]:
    # Read once per process: pages and the bot ask for the taxonomy on every request.
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


@dataclass(frozen=True)
class Taxonomy:
    """Category keywords in priority order; `category()` picks the first that matches."""

    keywords: dict[str, list[str]]
    sectors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DEFAULT_TAXONOMY, only: list[str] | None = None) -> Taxonomy:
        spec = _taxonomy_file(path)
        names = [n for n in spec if only is None or n in only]
        return cls(
            {n: [str(k) for k in spec[n]["keywords"]] for n in names},
            {n: [str(s) for s in spec[n].get("sectors", [])] for n in names},
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.keywords)

    def best(self, labels: set[str]) -> str | None:
        """The highest-priority category among `labels` (other labels are ignored)."""
        return next((n for n in self.keywords if n in labels), None)


@dataclass(frozen=True)
class Rule:
    """`keywords` (any of) or `pattern` (a regex) → set kind, category and/or urgency."""

    id: str
    keywords: Lexicon | None = None
    pattern: re.Pattern[str] | None = None
    kind: str | None = None
    category: str | None = None
    urgency: str | None = None

    def matches(self, text: str, toks: list[str], joined: str) -> bool:
        if self.keywords is not None and self.keywords.matches(toks, joined):
            return True
        return self.pattern is not None and self.pattern.search(text) is not None


@dataclass(frozen=True)
class TriageConfig:
    """An organisation's triage settings, as stored from its org file."""

    categories: list[str] | None = None
    rules: list[dict[str, Any]] = field(default_factory=list)
    # Lower-case, without "#": a post that carries one addresses the agency (see
    # ModelTriager.prepare).
    addressing_hashtags: list[str] = field(default_factory=list)
    # P(actionable) at or above which a post becomes a ticket; None: the model's own line,
    # chosen by cross-validation in training. Lower it to put recall first.
    actionable_threshold: float | None = None

    @classmethod
    def of(cls, value: dict[str, Any] | None) -> TriageConfig:
        """From the org file's `triage` section as stored (JSON); the defaults when absent."""
        if not value:
            return cls()
        return cls(
            categories=value.get("categories"),
            rules=value.get("rules", []),
            addressing_hashtags=value.get("addressing_hashtags", []),
            actionable_threshold=value.get("actionable_threshold"),
        )

    def category_names(self) -> tuple[str, ...]:
        """Every category a ticket of this organisation can have: the taxonomy's (restricted to
        `categories` if set) and any an admin rule names, in that order."""
        names = dict.fromkeys(Taxonomy.load(only=self.categories).names)
        names.update(dict.fromkeys(r["category"] for r in self.rules if r.get("category")))
        return tuple(names)

    def compiled_rules(self) -> tuple[Rule, ...]:
        out = []
        for spec in self.rules:
            out.append(
                Rule(
                    id=spec["id"],
                    keywords=Lexicon.of(spec["keywords"]) if spec.get("keywords") else None,
                    pattern=re.compile(spec["pattern"], re.I) if spec.get("pattern") else None,
                    kind=spec.get("kind"),
                    category=spec.get("category"),
                    urgency=spec.get("urgency"),
                )
            )
        return tuple(out)
