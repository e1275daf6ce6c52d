"""Triage: language, actionability, kind, category, urgency, entities and masking of a message."""
