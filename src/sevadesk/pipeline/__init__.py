"""The ingestion pipeline: journal → normalise → dedupe → thread → triage → route → ticket."""
