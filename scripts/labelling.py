"""The team's labelling project for the multi-agency sets (docs/decisions/0002).

Labels live in `evaluation/labels/<source>/` as TSV files that refer to rows of the files in
../shared/data by number (0-based data row, header excluded) and carry an 8-character
fingerprint of the row's text, so a label can never silently point at another text. Raw
texts are never written into the repository: the batches annotators read are written to
`build/labelling/` (ignored by git).

    python scripts/labelling.py batches            # first-reading batches, model-ordered
    python scripts/labelling.py second             # the blind second-reading sample
    python scripts/labelling.py compile            # annotators' outputs -> evaluation/labels
    python scripts/labelling.py agreement          # kappa and agreement per source
    python scripts/labelling.py settle             # batches of the disagreements to re-read
    python scripts/labelling.py status             # how many rows each source has labelled

An annotator's output file is TSV, one line per item read: `ref<TAB>kind<TAB>language`
and, for kind sos (or a hard negative the reader wants to flag), a fourth column with the
SOS type of docs/decisions/0002 (harassment, threat, theft_or_assault, medical, missing,
stranded, accident; or news, compensation, hyperbole, hazard, past, cyber, campaign).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "evaluation" / "labels"
WORK = ROOT / "build" / "labelling"

KINDS = ("grievance", "query", "sos", "feedback", "noise", "spam")
ACTIONABLE = {"grievance", "query", "sos"}
LANGUAGES = (
    "en", "hi", "hi-Latn", "mr", "mr-Latn", "ta", "te", "kn", "bn", "gu", "pa", "ur", "other",
)  # fmt: skip
SOS_TYPES = (
    "harassment",
    "threat",
    "theft_or_assault",
    "medical",
    "missing",
    "stranded",
    "accident",
)
NEGATIVE_TYPES = ("news", "compensation", "hyperbole", "hazard", "past", "cyber", "campaign")


@dataclass(frozen=True)
class Source:
    """One labelled file: its path under ../shared/data, the text column, the authors' own
    complaint flag (for ordering only) and the handle column, if any."""

    name: str
    path: str
    text: str
    authors: str | None
    handle: str | None = None


SOURCES = {
    s.name: s
    for s in (
        Source("delhi-2016", "citizen-complaints-delhi-2016/annotated.csv", "tweet_text", "c_and_g", "organization"),
        Source("mumbai-2019", "mumbai-urban-issues-2019/tweets.csv", "text", "complaint"),
        Source("transport-grievance", "indian-transport-grievances-2023/grievance.csv", "text", None),
        Source("transport-sentiment", "indian-transport-grievances-2023/sentiment.csv", "text", "sentiment"),
    )
}  # fmt: skip


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:8]


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def rows(source: Source) -> list[dict[str, str]]:
    with (DATA / source.path).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Item:
    ref: str  # "<source>:<row>" of the first row with this text
    text: str
    to: str | None
    authors: str | None
    also: list[str]  # other refs (any source) with the same text


def items() -> list[Item]:
    """Every distinct text of every source; a text that several rows (or both transport
    files) hold is read once and its label given to every row."""
    by_text: dict[str, Item] = {}
    out: list[Item] = []
    for source in SOURCES.values():
        for number, row in enumerate(rows(source)):
            text = row[source.text].strip()
            ref = f"{source.name}:{number}"
            key = norm(text)
            if key in by_text:
                by_text[key].also.append(ref)
                continue
            item = Item(
                ref,
                text,
                row.get(source.handle) if source.handle else None,
                row.get(source.authors) if source.authors else None,
                [],
            )
            by_text[key] = item
            out.append(item)
    return out


def split_of(text: str) -> str:
    """The same test fifth as sevadesk.triage.datasets.split_of."""
    return "test" if zlib.crc32(text.strip().lower().encode()) % 5 == 0 else "train"


def _model_order(batch: list[Item]) -> list[Item]:
    """Posts where the shipped model and the authors' flag disagree first (the model only
    orders the work; nobody sees its output)."""
    sys.path.insert(0, str(ROOT / "src"))
    from sevadesk.triage.default import default_triager

    triager = default_triager()
    results = triager.triage_batch([i.text for i in batch])

    def disagrees(item: Item, actionable: bool) -> bool:
        if item.authors in (None, ""):
            return True
        authors = item.authors == "1"  # sentiment 1 is negative, the nearest to a complaint
        return authors != actionable

    keyed = [
        (0 if disagrees(i, r.actionable) else 1, abs(r.score - 0.5), n)
        for n, (i, r) in enumerate(zip(batch, results, strict=True))
    ]
    return [batch[n] for _, _, n in sorted(keyed)]


def _write_batches(kind: str, groups: dict[str, list[Item]], size: int) -> None:
    folder = WORK / kind
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    for name, group in groups.items():
        for start in range(0, len(group), size):
            path = folder / f"{name}-{start // size + 1:02d}.jsonl"
            with path.open("w", encoding="utf-8") as fh:
                for item in group[start : start + size]:
                    line = {"ref": item.ref, "text": item.text}
                    if item.to:
                        line["collected_for"] = "@" + item.to
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            print(path.relative_to(ROOT), min(size, len(group) - start))


def cmd_batches(args: argparse.Namespace) -> None:
    everything = items()
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in everything:
        groups[item.ref.split(":")[0].split("-")[0]].append(item)
    ordered = {name: _model_order(group) for name, group in groups.items()}
    _write_batches("first", ordered, args.size)


def _labels(file: Path) -> dict[str, dict[str, str]]:
    """A compiled label file: {ref: {kind, language, sos_type, reader}}."""
    out: dict[str, dict[str, str]] = {}
    if not file.exists():
        return out
    with file.open(encoding="utf-8") as fh:
        for line in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t"):
            out[f"{file.parent.name}:{line['row']}"] = line
    return out


def reading(name: str) -> dict[str, dict[str, str]]:
    """All sources' labels of one reading (first, second, settled)."""
    out: dict[str, dict[str, str]] = {}
    for source in SOURCES:
        out |= _labels(LABELS / source / f"{name}.tsv")
    return out


def cmd_second(args: argparse.Namespace) -> None:
    """A tenth of each source's distinct texts (and at least `--minimum`), chosen by a
    hash independent of the test split, shuffled, in batches for readers who did not
    read them first."""
    first = reading("first")
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in items():
        groups[item.ref.split(":")[0].split("-")[0]].append(item)
    chosen: dict[str, list[Item]] = {}
    for name, group in groups.items():
        ranked = sorted(group, key=lambda i: zlib.crc32(("second:" + norm(i.text)).encode()))
        n = max(args.minimum, -(-len(group) * args.share // 100))
        sample = ranked[:n]
        random.Random(name).shuffle(sample)
        readers = Counter(first.get(i.ref, {}).get("reader", "?") for i in sample)
        print(name, len(sample), "of", len(group), "first read by", dict(readers))
        chosen[name] = sample
    _write_batches("second", chosen, args.size)


def _read_output(path: Path) -> Iterator[tuple[str, str, str, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise SystemExit(f"{path}:{number}: expected ref, kind, language (tab-separated)")
        ref, kind, lang = (p.strip() for p in parts[:3])
        sos_type = parts[3].strip() if len(parts) > 3 else ""
        if kind not in KINDS:
            raise SystemExit(f"{path}:{number}: unknown kind {kind!r}")
        if lang not in LANGUAGES:
            raise SystemExit(f"{path}:{number}: unknown language {lang!r}")
        if sos_type and sos_type not in SOS_TYPES + NEGATIVE_TYPES:
            raise SystemExit(f"{path}:{number}: unknown SOS type {sos_type!r}")
        if kind == "sos" and sos_type not in SOS_TYPES:
            raise SystemExit(f"{path}:{number}: an sos needs its type ({', '.join(SOS_TYPES)})")
        yield ref, kind, lang, sos_type


def cmd_compile(args: argparse.Namespace) -> None:
    """Annotators' outputs (`build/labelling/out/<reading>/<reader>/*.tsv`) into the
    committed label files, each row expanded to every row holding the same text."""
    everything = {i.ref: i for i in items()}
    texts = {i.ref: i.text for i in everything.values()}
    for reading_name in ("first", "second", "settled"):
        folder = WORK / "out" / reading_name
        if not folder.exists():
            continue
        labelled: dict[str, dict[str, list[str]]] = defaultdict(dict)
        for path in sorted(folder.glob("*/*.tsv")):
            reader = path.parent.name
            for ref, kind, lang, sos_type in _read_output(path):
                if ref not in everything:
                    raise SystemExit(f"{path}: {ref} is not a batch item")
                for r in [ref, *everything[ref].also]:
                    source, row = r.split(":")
                    labelled[source][row] = [
                        row,
                        fingerprint(texts[ref]),
                        kind,
                        lang,
                        sos_type,
                        reader,
                    ]
        for source, by_row in labelled.items():
            out = LABELS / source / f"{reading_name}.tsv"
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8") as fh:
                fh.write(
                    f"# {reading_name} reading of {SOURCES[source].path}, rule docs/decisions/0002\n"
                )
                fh.write("row\tfp\tkind\tlanguage\tsos_type\treader\n")
                for row in sorted(by_row, key=int):
                    fh.write("\t".join(by_row[row]) + "\n")
            print(out.relative_to(ROOT), len(by_row))


def _all_texts() -> dict[str, str]:
    texts = {i.ref: i.text for i in items()}
    texts.update({ref: text for ref, text, _ in _other_sets()})
    return texts


SOS_SET = LABELS / "sos-set"


def cmd_compile_sos(args: argparse.Namespace) -> None:
    """The SOS set's readings (`build/labelling/out/sos/<reader>/`, and the settling of their
    disagreements in `out/sos-settled/`) into `evaluation/labels/sos-set/<reader>.tsv`."""
    texts = _all_texts()
    SOS_SET.mkdir(parents=True, exist_ok=True)
    for kind in ("sos", "sos-settled", "weak"):
        folder = WORK / "out" / kind
        if not folder.exists():
            continue
        for reader_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            lines = []
            for path in sorted(reader_dir.glob("*.tsv")):
                for ref, k, lang, sos_type in _read_output(path):
                    if ref not in texts:
                        raise SystemExit(f"{path}: {ref} is not a candidate")
                    lines.append([ref, fingerprint(texts[ref]), k, lang, sos_type, reader_dir.name])
            name = "settled" if kind == "sos-settled" else reader_dir.name
            out = (LABELS / "weak-sample" if kind == "weak" else SOS_SET) / f"{name}.tsv"
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("w", encoding="utf-8") as fh:
                fh.write(f"# {kind} reading {name}, rule docs/decisions/0002\n")
                fh.write("ref\tfp\tkind\tlanguage\tsos_type\treader\n")
                for line in sorted(lines):
                    fh.write("\t".join(line) + "\n")
            print(out.relative_to(ROOT), len(lines))


def sos_reading(name: str) -> dict[str, dict[str, str]]:
    path = SOS_SET / f"{name}.tsv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {
            r["ref"]: r
            for r in csv.DictReader((ln for ln in fh if not ln.startswith("#")), delimiter="\t")
        }


def _sos_class(label: dict[str, str]) -> str:
    if label["kind"] == "sos":
        return "sos"
    return "negative" if label["sos_type"] else "neither"


def cmd_agreement_sos(args: argparse.Namespace) -> None:
    """Agreement of two SOS-set readings; writes the disagreements to settle."""
    a, b = sos_reading(args.first), sos_reading(args.second)
    both = sorted(set(a) & set(b))
    classes = [(_sos_class(a[r]), _sos_class(b[r])) for r in both]
    sos = [(x == "sos", y == "sos") for x, y in classes]
    print(f"{len(both)} posts read twice")
    print(
        f"sos or not: agreement {sum(x == y for x, y in sos) / len(sos):.3f}, kappa {kappa(sos):.3f}"
    )
    print(
        f"sos / negative / neither: agreement {sum(x == y for x, y in classes) / len(classes):.3f},"
        f" kappa {kappa(classes):.3f}"
    )
    types = [
        (a[r]["sos_type"], b[r]["sos_type"]) for r in both if a[r]["kind"] == b[r]["kind"] == "sos"
    ]
    if types:
        print(
            f"type, where both say sos ({len(types)}): agreement "
            f"{sum(x == y for x, y in types) / len(types):.3f}, kappa {kappa(types):.3f}"
        )
    texts = _all_texts()
    folder = WORK / "sos-settle"
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    with (folder / "disagreements.jsonl").open("w", encoding="utf-8") as fh:
        for r in both:
            x, y = a[r], b[r]
            if (_sos_class(x), x["sos_type"], x["kind"]) != (
                _sos_class(y),
                y["sos_type"],
                y["kind"],
            ):
                readings = [{k: v[k] for k in ("kind", "language", "sos_type")} for v in (x, y)]
                fh.write(
                    json.dumps(
                        {"ref": r, "text": texts[r], "readings": readings}, ensure_ascii=False
                    )
                    + "\n"
                )
                n += 1
    print(f"{n} disagreements -> build/labelling/sos-settle/disagreements.jsonl")


def kappa(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    if not n:
        return float("nan")
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def cmd_agreement(args: argparse.Namespace) -> None:
    first, second = reading("first"), reading("second")
    print("| source | rows read twice | actionable: agreement | kappa | kind: agreement | kappa |")
    print("|---|---|---|---|---|---|")
    for source in SOURCES:
        both = [r for r in second if r.startswith(source + ":") and r in first]
        kinds = [(first[r]["kind"], second[r]["kind"]) for r in both]
        act = [(a in ACTIONABLE, b in ACTIONABLE) for a, b in kinds]
        if not both:
            continue
        print(
            f"| {source} | {len(both)} | {sum(a == b for a, b in act) / len(act):.3f} | "
            f"{kappa(act):.3f} | {sum(a == b for a, b in kinds) / len(kinds):.3f} | {kappa(kinds):.3f} |"
        )


def cmd_settle(args: argparse.Namespace) -> None:
    """Every row the two readings label differently, for a re-reading that sees both."""
    first, second = reading("first"), reading("second")
    everything = {i.ref: i for i in items()}
    folder = WORK / "settle"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "disagreements.jsonl"
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for ref, item in everything.items():
            a, b = first.get(ref), second.get(ref)
            if a and b and (a["kind"], a["sos_type"]) != (b["kind"], b["sos_type"]):
                line = {"ref": ref, "text": item.text, "readings": [
                    {"kind": a["kind"], "language": a["language"], "sos_type": a["sos_type"]},
                    {"kind": b["kind"], "language": b["language"], "sos_type": b["sos_type"]},
                ]}  # fmt: skip
                if item.to:
                    line["collected_for"] = "@" + item.to
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                n += 1
    print(out.relative_to(ROOT), n)


def cmd_check(args: argparse.Namespace) -> None:
    """Validate annotator output files against their batch: every item labelled once."""
    for name in args.files:
        path = Path(name)
        labelled = [ref for ref, *_ in _read_output(path)]
        batch = WORK / args.reading / (path.stem + ".jsonl")
        if not batch.exists():
            print(f"{path}: no batch {batch.relative_to(ROOT)} to check against")
            continue
        wanted = [
            json.loads(line)["ref"] for line in batch.read_text(encoding="utf-8").splitlines()
        ]
        missing = [r for r in wanted if r not in set(labelled)]
        extra = [r for r in labelled if r not in set(wanted)]
        twice = [r for r, n in Counter(labelled).items() if n > 1]
        print(
            f"{path}: {len(labelled)} labels; missing {missing[:10]}{'...' if len(missing) > 10 else ''}"
            f" ({len(missing)}), not in batch {extra[:5]} ({len(extra)}), twice {twice[:5]} ({len(twice)})"
        )


# Words that make a post worth reading for the SOS set (candidates only: every candidate is
# read and labelled by a person; a keyword never decides a label).
_SOS_CUES = re.compile(
    r"accident|injur|dead|died|death|kill|murder|rape|molest|harass|stalk|follow(ing|ed) (me|us|her)"
    r"|drunk|drink|alcohol|smok|fight|beat|assault|attack|threat|knife|weapon|gun|fire|smoke"
    r"|stole|stolen|theft|thief|snatch|rob|loot|dacoit|missing|kidnap|lost my|unconscious"
    r"|faint|blood|bleed|ambulance|doctor|medical|hospital|emergenc|help me|save|danger|unsafe"
    r"|scared|afraid|stranded|stuck|flood|collapse|electrocut|live wire|manhole|suicide|compensat"
    r"|ex.gratia|condolence|mar ja|maar|marr|chor|madad|bachao|khatra|darr|dar lag|police"
    r"|चोर|मदद|बचाओ|दुर्घटना|हादसा|मौत|आग|पुलिस|लापता|छेड़",
    re.IGNORECASE,
)
RAILWAY = "indian-railways-tweets-llm-labeled/twitter_indian_railway_combined_data.csv"
HELPDESK_2017 = "indian-railways-helpdesk-tweets/tweets_formatted_data.csv"
HELPDESK_2024 = "indian-railways-helpdesk-tweets/raw_data.csv"
BENGALURU = "bengaluru-civic-complaints/civic_complaints.csv"
SENTIMIX = "sentimix-hinglish/sentimix_hinglish_all.csv"


def _other_sets() -> Iterator[tuple[str, str, bool]]:
    """(ref, text, labelled sos by the team before) for the sets outside the relabelling."""
    import yaml

    def kinds(*files: Path) -> dict[int, str]:
        out: dict[int, str] = {}
        for f in files:
            spec = yaml.safe_load(f.read_text(encoding="utf-8"))
            for kind, ids in spec.items():
                if isinstance(ids, list):
                    out.update({int(i): kind for i in ids})
        return out

    seed = ROOT / "src" / "sevadesk" / "triage" / "seed"
    railway = kinds(
        *sorted(seed.glob("railway_train_*.yaml")), ROOT / "evaluation" / "railway_test_labels.yaml"
    )
    with (DATA / RAILWAY).open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            yield (
                f"railway:{row['index']}",
                row["text"].strip(),
                railway.get(int(row["index"])) == "sos",
            )
    h17 = kinds(ROOT / "evaluation" / "helpdesk_2017_labels.yaml")
    with (DATA / HELPDESK_2017).open(encoding="utf-8", errors="replace") as fh:
        for number, row in enumerate(csv.reader(fh)):
            yield f"helpdesk-2017:{number}", row[1].strip(), h17.get(number) == "sos"
    h24 = kinds(ROOT / "evaluation" / "helpdesk_2024_labels.yaml")
    with (DATA / HELPDESK_2024).open(encoding="utf-8", errors="replace") as fh:
        for number, row in enumerate(csv.DictReader(fh)):
            yield f"helpdesk-2024:{number}", row["text"].strip(), h24.get(number) == "sos"
    with (DATA / BENGALURU).open(encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh)):
            yield f"bengaluru:{number}", row["description"].strip(), False
    with (DATA / SENTIMIX).open(encoding="utf-8") as fh:
        for number, row in enumerate(csv.DictReader(fh)):
            yield f"sentimix:{number}", row["text"].strip(), False


def cmd_sos_candidates(args: argparse.Namespace) -> None:
    """Posts to read for the SOS set: every post a reading called sos or a hard negative, the
    team's earlier SOS labels, and posts of the other sets with an SOS cue. Written in two
    shuffled copies of batches, for two independent readings."""
    labelled = reading("first") | reading("second")
    everything = {i.ref: i for i in items()}
    seen: set[str] = set()
    chosen: list[tuple[str, str]] = []
    for ref, lab in labelled.items():
        item = everything.get(ref)
        if item is None or norm(item.text) in seen:
            continue
        if lab["kind"] == "sos" or lab["sos_type"]:
            seen.add(norm(item.text))
            chosen.append((item.ref, item.text))
    per_set: Counter[str] = Counter()
    others = list(_other_sets())
    random.Random("sos-cap").shuffle(others)  # the cap takes a random sample, not the first rows
    for ref, text, was_sos in others:
        name = ref.split(":")[0]
        if norm(text) in seen or not text:
            continue
        if was_sos or (_SOS_CUES.search(text) and per_set[name] < args.cap):
            seen.add(norm(text))
            per_set[name] += 1
            chosen.append((ref, text))
    random.Random("sos").shuffle(chosen)
    folder = WORK / "sos"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    for start in range(0, len(chosen), args.size):
        path = folder / f"sos-{start // args.size + 1:02d}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for ref, text in chosen[start : start + args.size]:
                fh.write(json.dumps({"ref": ref, "text": text}, ensure_ascii=False) + "\n")
    print(len(chosen), "candidates;", dict(Counter(r.split(":")[0] for r, _ in chosen)))


def cmd_status(args: argparse.Namespace) -> None:
    for name in ("first", "second", "settled"):
        labels = reading(name)
        counts = Counter(r.split(":")[0] for r in labels)
        print(name, dict(counts))
    totals = Counter()
    for source in SOURCES.values():
        totals[source.name] = len(rows(source))
    print("rows", dict(totals))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("batches")
    b.add_argument("--size", type=int, default=300)
    s = sub.add_parser("second")
    s.add_argument("--share", type=int, default=11, help="percent of each source")
    s.add_argument("--minimum", type=int, default=150)
    s.add_argument("--size", type=int, default=300)
    for name in ("compile", "agreement", "settle", "status", "compile-sos"):
        sub.add_parser(name)
    ag = sub.add_parser("agreement-sos")
    ag.add_argument("--first", default="ann-j")
    ag.add_argument("--second", default="ann-k")
    sc = sub.add_parser("sos-candidates")
    sc.add_argument("--cap", type=int, default=250, help="keyword candidates per other set")
    sc.add_argument("--size", type=int, default=300)
    c = sub.add_parser("check", help="validate annotator output files")
    c.add_argument("files", nargs="+")
    c.add_argument(
        "--reading",
        default="first",
        choices=["first", "second", "settle", "sos", "sos-settle", "weak"],
    )
    args = parser.parse_args()
    globals()[f"cmd_{args.command.replace('-', '_')}"](args)


if __name__ == "__main__":
    main()
