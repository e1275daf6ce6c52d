"""X (Twitter) API v2: filtered-stream payloads in, replies out."""
