"""Working a ticket: queries for the inbox and the actions agents take, each one audited."""
