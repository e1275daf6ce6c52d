"""Org units form a tree; a unit's materialised path makes subtree checks one string test."""

from __future__ import annotations

from dataclasses import dataclass


def unit_path(parent_path: str | None, code: str) -> str:
    """`/RLY/NR/LKO/`: every ancestor's code in order, slash-delimited on both ends."""
    return f"{parent_path or '/'}{code}/"


def in_subtree(path: str, root_path: str) -> bool:
    return path.startswith(root_path)


def depth(path: str) -> int:
    return path.count("/") - 1


def ancestor_paths(path: str) -> list[str]:
    """`/RLY/NR/LKO/` → `/RLY/`, `/RLY/NR/`, `/RLY/NR/LKO/`: the unit and those above it,
    top first."""
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[: n + 1]) + "/" for n in range(len(codes))]


@dataclass(slots=True, frozen=True)
class UnitRef:
    id: int
    code: str
    path: str
    ticket_prefix: str
