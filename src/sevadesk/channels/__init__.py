"""Channel adapters: read each platform's payloads into InboundMessage, send replies back."""
