"""The outbound path: the outbox worker hands queued replies to each channel's sender."""
