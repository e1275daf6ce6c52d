"""The one place that reads the environment: every setting has a `SEVA_` variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    # The shared datasets sit beside the checkout (../shared/data) on developer and CI machines.
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path.cwd().parent / "shared" / "data"


class Settings(BaseSettings):
    """Runtime configuration; see docs/operations.md for what each knob changes."""

    model_config = SettingsConfigDict(env_prefix="SEVA_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///seva.db",
        description="SQLAlchemy URL; sqlite:///file.db (default) or postgresql+psycopg://...",
    )
    # `seva db upgrade` connects with this URL (the tables' owner) and grants the role of
    # database_url what the application needs and no more (PostgreSQL; see docs/operations.md).
    # Empty: migrations use database_url.
    migrate_database_url: str = ""
    data_dir: Path = Field(default_factory=_default_data_dir)
    # A citizen's new post within this many minutes of their last post on an open ticket
    # is treated as a follow-up of that ticket rather than a new problem.
    thread_window_minutes: int = 30
    # A citizen's reply within this many hours of resolution reopens the ticket.
    reopen_window_hours: int = 72
    batch_size: int = 1000
    # How often the server checks SLA deadlines; 0 turns the check off (run `seva sla run`).
    sla_interval_seconds: float = 60.0
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # Where citizens read a ticket's public status; replies too long for a post link here.
    public_url: str = "http://127.0.0.1:8000"
    # Proxies whose X-Forwarded-For/-Proto uvicorn believes (comma-separated, or "*"): the
    # client address the sign-in throttle counts, and whether a request came over HTTPS.
    forwarded_allow_ips: str = "127.0.0.1"
    hsts_seconds: int = 365 * 24 * 3600  # Strict-Transport-Security on HTTPS answers; 0: off

    # Accounts. API tokens expire: those of `seva user token` after token_ttl_days (its
    # --days overrides), those of a password sign-in at POST /api/v1/auth/token sooner.
    token_ttl_days: int = 30
    login_token_ttl_hours: int = 12
    # Sign-in throttling, per account and per client address, kept in the database so every
    # process sees it: after the free failures each further one locks for twice as long as
    # the last, from lockout_base_seconds up to lockout_max_seconds. A success clears the
    # account's count; an address's count is forgotten a day after its last failure.
    login_free_failures: int = 5
    login_address_free_failures: int = 20
    login_lockout_base_seconds: int = 60
    login_lockout_max_seconds: int = 3600
    # argon2id (64 MiB, t=3, p=4) takes both cores of a small server for ~0.1 s: at most this
    # many verifications run at once, the rest wait without holding a request thread.
    password_checks_at_once: int = 2

    # Open311 Service Discovery: who a civic app's developer asks for help and for a key.
    open311_contact: str = "The grievance desk's administrator (ask the agency for the address)"

    # X API v2. The base URL is configurable so tests and the demo can use a local server.
    x_api_base_url: str = "https://api.x.com"
    x_bearer_token: SecretStr | None = None  # app-only: filtered stream, recent search
    x_user_token: SecretStr | None = None  # OAuth 2.0 user context: replies and DMs
    # Account Activity webhooks; a comma-separated list rotates secrets (newest first).
    x_consumer_secrets: str = ""
    # What the X plan allows: "basic" and "pro" read recent search for catch-up after a
    # drop; "enterprise" may reconnect with backfill_minutes (up to 5) instead.
    x_access_level: str = "pro"
    x_monthly_read_budget: int = 1_000_000  # posts read per calendar month, all X sources
    x_stream_stall_seconds: float = 20.0  # X sends a keep-alive every 20 s
    x_poll_interval_seconds: float = 60.0
    x_rule_max_length: int = 1024  # 512 on Basic, 1,024 on Pro
    # How the server reads X: "stream" (filtered stream), "poll" (recent search, for plans
    # without stream access), or "off" (Account Activity webhooks only, or no X at all).
    x_ingest: str = "off"

    # WhatsApp Cloud API (Meta Graph API).
    whatsapp_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_phone_number_id: str = ""
    whatsapp_token: SecretStr | None = None
    whatsapp_app_secrets: str = ""  # comma-separated, newest first (rotation)
    whatsapp_verify_token: SecretStr | None = None

    # The WhatsApp citizen bot: when on, WhatsApp messages are conversations with the bot
    # (which files tickets through the pipeline) instead of becoming tickets directly.
    whatsapp_bot: bool = False
    bot_flow_file: Path | None = None  # a flow of the agency's own; default bot/flow.yaml
    bot_catalogues_dir: Path | None = None

    # Outbox worker.
    outbox_interval_seconds: float = 1.0  # 0 turns the in-server worker off
    outbox_max_attempts: int = 8
    outbox_timeout_seconds: float = 15.0
    # A worker holds one entry at a time, renewing before each call to the channel: the lease
    # only has to outlast one call (a timeout), with room to spare.
    outbox_lease_seconds: float = 120.0
    # A WhatsApp send whose answer was lost (a timeout, a 5xx) waits this long for Meta's
    # status webhook, the only word on whether it went out, before it is sent again.
    whatsapp_status_grace_seconds: float = 600.0
    # Ingestion ledger alerts.
    ingest_lag_alert_seconds: float = 300.0
    # The server processes webhook deliveries (stored at once) this often.
    drain_interval_seconds: float = 0.5
    # On PostgreSQL a drain worker leases the batch it claims (pipeline/journal.py); a batch
    # takes a second or two, so a killed worker's batch is taken over this long after.
    drain_lease_seconds: float = 60.0
    drain_batch_size: int = 1000  # entries a drain worker claims at a time

    def secret(self, name: str) -> str | None:
        """A secret setting's value; None when unset or empty."""
        value = getattr(self, name)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return text or None

    @staticmethod
    def secret_list(value: str) -> list[str]:
        return [s.strip() for s in value.split(",") if s.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
