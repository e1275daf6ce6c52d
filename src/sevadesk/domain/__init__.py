"""Plain-Python domain of the desk: tickets, their states, messages, units. No I/O."""
