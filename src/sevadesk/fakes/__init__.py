"""Local, protocol-faithful stand-ins for the services this machine cannot reach (X API v2,
Meta's Graph API), for tests and the demo. Nothing in the channel clients knows about them:
the clients are pointed here by their base URL setting. See docs/decisions/0003."""
