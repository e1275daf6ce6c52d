"""The rules a new password must meet (NIST SP 800-63B: length over composition rules).

Long enough to resist guessing, not the account's own name, not one character repeated or a
well-known password. Checked when an administrator sets or resets a password in the desk."""

from __future__ import annotations

MIN_LENGTH = 12
MAX_LENGTH = 1024
# The most used passwords that are 12 characters or longer (the shorter ones fail on length).
COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "qwertyuiopas",
        "password1234",
        "passwordpassword",
        "administrator",
        "iloveyou1234",
        "qwerty123456",
        "welcome12345",
        "abcdefghijkl",
    }
)


def password_problems(password: str, username: str = "", display_name: str = "") -> list[str]:
    """What is wrong with `password`, in plain words; empty when it may be used."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"the password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"the password may have at most {MAX_LENGTH} characters")
    lowered = password.casefold()
    for own in (username, display_name):
        if len(own) >= 3 and own.casefold() in lowered:
            problems.append("the password must not contain the user's name")
            break
    if password and len(set(password)) == 1:
        problems.append("the password must not be one character repeated")
    if lowered in COMMON:
        problems.append("the password is one of the most used passwords")
    return problems
