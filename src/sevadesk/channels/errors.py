"""Errors raised when a channel payload cannot be read."""

from __future__ import annotations


class PayloadError(ValueError):
    """A payload that does not have the shape the channel's documentation promises."""
