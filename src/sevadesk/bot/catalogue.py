"""Message catalogues: one YAML file per language, the same keys in each.

English is the reference: a key missing from another language is an error at load (and in
the test suite), so no citizen ever sees a key name or a silent fallback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CATALOGUES = Path(__file__).with_name("catalogues")
REFERENCE = "en"


class CatalogueError(ValueError):
    """A catalogue that is missing keys or cannot be read; names the file and the key."""


@dataclass(frozen=True)
class Catalogues:
    texts: dict[str, dict[str, Any]]  # language → key → text (or list of words)

    @classmethod
    def load(cls, folder: Path = CATALOGUES) -> Catalogues:
        texts: dict[str, dict[str, Any]] = {}
        for path in sorted(folder.glob("*.yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise CatalogueError(f"{path}: not YAML: {exc}") from exc
            if not isinstance(data, dict):
                raise CatalogueError(f"{path}: a mapping of key → text is required")
            texts[path.stem] = data
        if REFERENCE not in texts:
            raise CatalogueError(f"{folder}: no {REFERENCE}.yaml")
        catalogues = cls(texts)
        for lang, data in texts.items():
            for key in texts[REFERENCE]:
                if key not in data:
                    raise CatalogueError(f"{folder / (lang + '.yaml')}: {key}: missing")
            for key in data:
                if key not in texts[REFERENCE]:
                    raise CatalogueError(
                        f"{folder / (lang + '.yaml')}: {key}: not in {REFERENCE}.yaml"
                    )
        return catalogues

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def missing(self, key: str) -> list[str]:
        """Languages whose catalogue lacks `key` (as '<lang>.yaml')."""
        return [f"{lang}.yaml" for lang, data in self.texts.items() if key not in data]

    def has(self, key: str) -> bool:
        return not self.missing(key)

    def text(self, lang: str, key: str, **params: Any) -> str:
        data = self.texts.get(lang) or self.texts[REFERENCE]
        template = data.get(key, self.texts[REFERENCE].get(key, key))
        if isinstance(template, list):
            return ", ".join(str(w) for w in template)
        return str(template).format(**params) if params else str(template)

    def words(self, lang: str, key: str) -> list[str]:
        """A list entry (e.g. the words that mean 'menu'), with English always understood."""
        out: list[str] = []
        for source in (self.texts.get(lang, {}), self.texts[REFERENCE]):
            value = source.get(key, [])
            out.extend(str(w).lower() for w in value if isinstance(value, list))
        return out
