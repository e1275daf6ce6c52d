"""Passwords out of an organisation file's text, keeping everything else as written.

The configuration history keeps each loaded file's text and the admin page shows it, so a
`password:` given in plain text is rewritten before it is stored: it becomes
`password_hash: '<its argon2 hash>'`, the form the file accepts anyway, so the stored text
still loads to the same users. The file is edited in place (by the positions YAML reports
for each value), not re-dumped: comments, order and layout stay, and diffs stay small.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# (username, password) → the argon2 hash that stands in for the password.
HashOf = Callable[[str, str], str]


def _field(mapping: MappingNode, name: str) -> tuple[ScalarNode, Node] | None:
    for key, value in mapping.value:
        if isinstance(key, ScalarNode) and key.value == name:
            return key, value
    return None


def _edits(root: Node, hash_of: HashOf) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for every user's plain-text password."""
    if not isinstance(root, MappingNode):
        return []
    users = _field(root, "users")
    if users is None or not isinstance(users[1], SequenceNode):
        return []
    edits: list[tuple[int, int, str]] = []
    for user in users[1].value:
        if not isinstance(user, MappingNode):
            continue
        found = _field(user, "password")
        if found is None or not isinstance(found[1], ScalarNode) or found[1].tag.endswith(":null"):
            continue
        key, value = found
        name = _field(user, "username")
        username = name[1].value if name and isinstance(name[1], ScalarNode) else ""
        if _field(user, "password_hash") is not None:
            # The hash given wins on load; the password is only noise, and a secret.
            edits.append((value.start_mark.index, value.end_mark.index, "null"))
            continue
        digest = hash_of(username, value.value)
        edits.append((key.start_mark.index, key.end_mark.index, "password_hash"))
        edits.append((value.start_mark.index, value.end_mark.index, f"'{digest}'"))
    return edits


def redact_passwords(text: str, hash_of: HashOf) -> str:
    """`text` with each user's `password: secret` replaced by `password_hash: '<hash>'`.

    A text that is not YAML (the history may hold anything an old version stored) loses
    every line that names a password instead."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return "\n".join(
            "# (a line with a password was removed)" if "password:" in line else line
            for line in text.split("\n")
        )
    if root is None:
        return text
    for start, end, replacement in sorted(_edits(root, hash_of), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def has_plain_password(text: str) -> bool:
    """Whether `text` still gives any user a password in plain text."""
    return redact_passwords(text, lambda _u, _p: "x") != text
