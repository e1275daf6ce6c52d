"""Routing: where a ticket goes (jurisdiction, rules), who works it, and how fast."""
