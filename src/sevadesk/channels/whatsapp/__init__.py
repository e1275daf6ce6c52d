"""WhatsApp Cloud API: webhook payloads in, messages out through the Graph API."""
