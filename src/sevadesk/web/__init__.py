"""The web edge: JSON API, live page, health and metrics. Translates domain errors to HTTP."""
