"""The team's labels for the multi-agency sets (`evaluation/labels`), read against ../shared/data.

A label names a row of a shared CSV by number and carries an 8-character fingerprint of the
row's text (the first hex digits of the SHA-1 of the stripped text). A label whose fingerprint
does not match its row is an error (`LabelMismatch`), never silently applied: a reordered or
edited CSV would otherwise put every label on another post.

A row's label is its settled reading where there is one, else its first; where the row is in
the SOS set, the SOS set's label (settled, else the first SOS reading `ann-j`) overrides both
(see evaluation/labels/README.md). The test fifth of each source is chosen by a hash of the
text after lower-casing and collapsing whitespace, so every copy of a text (within a source,
and across the two transport files) lands in the same split.
"""

from __future__ import annotations

import csv
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sevadesk.triage.datasets import RAILWAY_FILE, Example
from sevadesk.triage.datasets import split_of as railway_split_of

LABELS = Path(__file__).parents[3] / "evaluation" / "labels"


class LabelMismatch(ValueError):
    """A label that does not fit its shared row: the row is missing or holds another text."""


@dataclass(frozen=True, slots=True)
class Label:
    kind: str
    language: str
    sos_type: str
    reader: str


@dataclass(frozen=True, slots=True)
class Source:
    """A labelled shared file: its path under ../shared/data and its text column (a number for
    a file with no header)."""

    name: str
    path: str
    text: str | int
    handle: str | None = None
    # The labelling script read the other sets with Python's universal newlines, which turn a
    # quoted "\r\n" into "\n"; fingerprints follow the text as it was read then.
    universal_newlines: bool = False


RELABELLED = (
    Source("delhi-2016", "citizen-complaints-delhi-2016/annotated.csv", "tweet_text", "organization"),
    Source("mumbai-2019", "mumbai-urban-issues-2019/tweets.csv", "text"),
    Source("transport-grievance", "indian-transport-grievances-2023/grievance.csv", "text"),
    Source("transport-sentiment", "indian-transport-grievances-2023/sentiment.csv", "text"),
)  # fmt: skip
# The other sets the SOS set and the weak-label sample read rows of (`<set>:<row>`; the railway
# file's rows by its `index` column).
OTHER = (
    Source("helpdesk-2017", "indian-railways-helpdesk-tweets/tweets_formatted_data.csv", 1, universal_newlines=True),
    Source("helpdesk-2024", "indian-railways-helpdesk-tweets/raw_data.csv", "text", universal_newlines=True),
    Source("bengaluru", "bengaluru-civic-complaints/civic_complaints.csv", "description", universal_newlines=True),
    Source("sentimix", "sentimix-hinglish/sentimix_hinglish_all.csv", "text", universal_newlines=True),
)  # fmt: skip
SOURCES = {s.name: s for s in (*RELABELLED, *OTHER)}


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:8]


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def split_of(text: str) -> str:
    """The test fifth of the relabelled sets: a hash of the normalised text."""
    return "test" if zlib.crc32(norm(text).encode()) % 5 == 0 else "train"


def read_labels(path: Path, key: str = "row") -> dict[str, tuple[str, Label]]:
    """A label file as {row or ref: (fingerprint, label)}; {} when it does not exist."""
    if not path.exists():
        return {}
    out: dict[str, tuple[str, Label]] = {}
    with path.open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(lines, delimiter="\t"):
            label = Label(row["kind"], row["language"], row["sos_type"] or "", row["reader"])
            out[row[key]] = (row["fp"], label)
    return out


def rows_of(data_dir: Path, source: Source) -> list[str]:
    """The stripped texts of a shared file's data rows, in order."""
    path = data_dir / source.path
    newline = None if source.universal_newlines else ""
    with path.open(encoding="utf-8", errors="replace", newline=newline) as fh:
        if isinstance(source.text, int):
            column = source.text
            return [r[column].strip() for r in csv.reader(fh)]
        name = source.text
        return [r[name].strip() for r in csv.DictReader(fh)]


def _handles(data_dir: Path, source: Source) -> list[str]:
    if source.handle is None:
        return []
    with (data_dir / source.path).open(encoding="utf-8", newline="") as fh:
        return [r[source.handle] for r in csv.DictReader(fh)]


def railway_rows(data_dir: Path) -> dict[str, str]:
    """The railway file's texts by its `index` column."""
    with (data_dir / RAILWAY_FILE).open(encoding="utf-8-sig") as fh:
        return {r["index"]: r["text"].strip() for r in csv.DictReader(fh)}


def _checked(
    labels: dict[str, tuple[str, Label]],
    texts: dict[str, str],
    where: str,
    copies: dict[str, set[str]] | None = None,
) -> dict[str, Label]:
    """`copies`: {normalised text: fingerprints of every row holding it}. A text that several
    rows hold was read once (scripts/labelling.py) and every copy carries the fingerprint of
    the copy that was read, which may differ from its own in case or spacing."""
    out = {}
    for key, (fp, label) in labels.items():
        if key not in texts:
            raise LabelMismatch(f"{where}: row {key} is not in the shared file")
        if fingerprint(texts[key]) != fp and fp not in (copies or {}).get(norm(texts[key]), ()):
            raise LabelMismatch(
                f"{where}: row {key} has fingerprint {fingerprint(texts[key])}, the label"
                f" says {fp}: the shared file has changed; relabel or fix the reference"
            )
        out[key] = label
    return out


def sos_set_labels(data_dir: Path, labels_dir: Path = LABELS) -> dict[str, Label]:
    """The SOS set: {ref: label}, the settled reading over the first (`ann-j`)."""
    folder = labels_dir / "sos-set"
    first = read_labels(folder / "ann-j.tsv", "ref")
    settled = read_labels(folder / "settled.tsv", "ref")
    return _refs_checked(data_dir, first | settled, folder)


def weak_sample_labels(data_dir: Path, labels_dir: Path = LABELS) -> dict[str, Label]:
    """The hand-read sample of the two weakly labelled sets (Bengaluru, SentiMix)."""
    folder = labels_dir / "weak-sample"
    return _refs_checked(data_dir, read_labels(folder / "ann-m.tsv", "ref"), folder)


def texts_by_ref(data_dir: Path, sets: set[str]) -> dict[str, str]:
    """{`<set>:<row>`: text} for the named sets."""
    out: dict[str, str] = {}
    for name in sets:
        if name == "railway":
            out |= {f"railway:{i}": text for i, text in railway_rows(data_dir).items()}
        elif name in SOURCES:
            rows = rows_of(data_dir, SOURCES[name])
            out |= {f"{name}:{n}": text for n, text in enumerate(rows)}
        else:
            raise LabelMismatch(f"unknown set {name!r} in a reference")
    return out


def _refs_checked(
    data_dir: Path, labels: dict[str, tuple[str, Label]], folder: Path
) -> dict[str, Label]:
    texts = texts_by_ref(data_dir, {ref.split(":")[0] for ref in labels})
    return _checked(labels, texts, str(folder))


# Handles of the Mumbai set's agencies, for scores per kind of agency: the first agency
# handle a post names decides (the Delhi set has the handle it was collected for).
_GROUP_HANDLES = (
    ("railways", r"westernrly|central_railway|railminindia|drm\w+|railwayseva|rpf\w*|wr_\w+|grp\w*"),
    ("police/traffic", r"\w*police\w*|\w*traffic\w*|cpmumbai\w*|dgpmaharashtra"),
    ("municipal", r"mybmc\w*|mcgm\w*|roadsofmumbai|mncdfbombay|\w*bmc\w*"),
)  # fmt: skip
_HANDLE = re.compile(r"@(\w+)")
_DELHI_GROUPS = {
    "RailMinIndia": "railways",
    "DelhiPolice": "police/traffic",
    "dtptraffic": "police/traffic",
    "IncomeTaxIndia": "tax",
}


def agency_group(source: str, text: str, handle: str | None = None) -> str:
    """railways, police/traffic, municipal, tax, transport or other."""
    if source.startswith("transport"):
        return "transport"
    if source in ("railway", "helpdesk-2017", "helpdesk-2024"):
        return "railways"
    if source == "bengaluru":
        return "municipal"
    if handle:
        return _DELHI_GROUPS.get(handle, "other")
    for found in _HANDLE.findall(text.lower()):
        for group, pattern in _GROUP_HANDLES:
            if re.fullmatch(pattern, found):
                return group
    return "other"


def relabelled(
    data_dir: Path, labels_dir: Path = LABELS, sources: tuple[Source, ...] = RELABELLED
) -> Iterator[Example]:
    """Every labelled row of the Delhi, Mumbai and transport sets, in file order, with the
    team's kind and language, its agency group and its split."""
    sos = sos_set_labels(data_dir, labels_dir)
    all_rows = {source.name: rows_of(data_dir, source) for source in sources}
    copies: dict[str, set[str]] = {}
    for rows in all_rows.values():
        for text in rows:
            copies.setdefault(norm(text), set()).add(fingerprint(text))
    for source in sources:
        texts = dict(enumerate(all_rows[source.name]))
        by_row = {str(n): t for n, t in texts.items()}
        folder = labels_dir / source.name
        first, settled = (
            _checked(read_labels(folder / f), by_row, str(folder / f), copies)
            for f in ("first.tsv", "settled.tsv")
        )
        handles = _handles(data_dir, source)
        for n, text in texts.items():
            label = sos.get(f"{source.name}:{n}") or settled.get(str(n)) or first.get(str(n))
            if label is None or not text:
                continue
            yield Example(
                text,
                label.kind,
                source.name,
                split_of(text),
                sos=label.kind == "sos",
                language=label.language,
                group=agency_group(source.name, text, handles[n] if handles else None),
            )


def sos_set(data_dir: Path, labels_dir: Path = LABELS) -> Iterator[Example]:
    """The SOS set's posts (SOS, hard negatives and the candidates that were neither), with
    the split of the set each came from: a railway row keeps the railway file's split."""
    labels = sos_set_labels(data_dir, labels_dir)
    texts = texts_by_ref(data_dir, {ref.split(":")[0] for ref in labels})
    for ref, label in labels.items():
        name = ref.split(":")[0]
        text = texts[ref]
        split = railway_split_of(text) if name == "railway" else split_of(text)
        yield Example(
            text,
            label.kind,
            f"sos-set:{name}",
            split,
            sos=label.kind == "sos",
            language=label.language,
            group=agency_group(name, text),
            sos_type=label.sos_type or None,
        )


def weak_sample(data_dir: Path, labels_dir: Path = LABELS) -> Iterator[Example]:
    """The hand-read sample of the Bengaluru and SentiMix sets, with the team's labels."""
    labels = weak_sample_labels(data_dir, labels_dir)
    texts = texts_by_ref(data_dir, {ref.split(":")[0] for ref in labels})
    for ref, label in labels.items():
        name = ref.split(":")[0]
        yield Example(
            texts[ref],
            label.kind,
            f"weak-sample:{name}",
            split_of(texts[ref]),
            language=label.language,
            group=agency_group(name, texts[ref]),
        )
