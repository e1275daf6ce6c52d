"""Sign-in throttling: how long a run of failed sign-ins locks an account or an address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """`free_failures` in a row cost nothing; each one after locks twice as long as the one
    before, from `first_lock` up to `longest_lock`. A run is forgotten `forget_after` its last
    failure."""

    free_failures: int
    first_lock: timedelta
    longest_lock: timedelta
    forget_after: timedelta = timedelta(days=1)

    def lock_after(self, failures: int) -> timedelta:
        """How long the `failures`-th failure in a row locks further attempts."""
        if failures <= self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures - 1, 30)
        longer: timedelta = self.first_lock * (2**doublings)
        return min(self.longest_lock, longer)


class SignInLocked(Exception):
    """Sign-in refused without a password check until `until`; `scope` is account or address."""

    def __init__(self, scope: str, until: datetime) -> None:
        super().__init__(scope, until)
        self.scope, self.until = scope, until

    def retry_after(self, now: datetime) -> int:
        """Whole seconds to wait (for a Retry-After header), at least one."""
        return max(1, int((self.until - now).total_seconds() + 0.999))

    def __str__(self) -> str:
        return f"too many failed sign-ins; try again after {self.until:%H:%M:%S} UTC"
