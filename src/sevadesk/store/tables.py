"""The schema. Alembic migrations in store/migrations create exactly these tables.

Core tables, not ORM classes: the pipeline's hot path is batched executemany and
INSERT .. ON CONFLICT DO NOTHING RETURNING, which Core expresses directly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from sevadesk.store.types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite: autoincrement works on both.
Id = BigInteger().with_variant(Integer(), "sqlite")
# The length of a channel's ids and handles (see citizen_identities).
ID_LENGTH = 255

units = Table(
    "units",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("name_hi", String(200)),
    Column("kind", String(40), nullable=False),
    Column("parent_id", Id, ForeignKey("units.id")),
    Column("path", String(1000), nullable=False, index=True),
    Column("ticket_prefix", String(8), nullable=False),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("contact", JSONType, nullable=False, default=dict),
    # How new tickets find an officer: manual | round_robin | least_loaded.
    Column("assignment", String(16), nullable=False, default="manual", server_default="manual"),
)

# Lookup tables for routing: each handle, hashtag and jurisdiction value names one unit.
unit_handles = Table(
    "unit_handles",
    metadata,
    Column("handle", String(64), primary_key=True),  # lower-case, no '@'
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
)

unit_hashtags = Table(
    "unit_hashtags",
    metadata,
    Column("hashtag", String(140), primary_key=True),  # lower-case, no '#'
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
)

unit_jurisdictions = Table(
    "unit_jurisdictions",
    metadata,
    Column("kind", String(16), primary_key=True),  # pin | district | station
    Column("value", String(120), primary_key=True),  # normalised: upper-case code / lower-case name
    Column("unit_id", Id, ForeignKey("units.id"), primary_key=True),
)

channels = Table(
    "channels",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
)

citizens = Table(
    "citizens",
    metadata,
    Column("id", Id, primary_key=True),
    # The identity this citizen was first seen as ("x:12345"): lets a batch insert correlate
    # returned ids without row-by-row inserts.
    Column("first_seen_as", String(300), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# A citizen's identity on one channel. No more personal data than the channel gives us to reply.
citizen_identities = Table(
    "citizen_identities",
    metadata,
    Column("channel", String(32), ForeignKey("channels.code"), primary_key=True),
    # Meta sets no maximum for a WhatsApp id, nor X for a DM or user id: ID_LENGTH is
    # generous (today's ids are under 70 characters); longer ones are refused when read.
    Column("external_user_id", String(ID_LENGTH), primary_key=True),
    Column("citizen_id", Id, ForeignKey("citizens.id"), nullable=False, index=True),
    Column("handle", String(ID_LENGTH)),
    Column("display_name", String(200)),
)

journal = Table(
    "journal",
    metadata,
    Column("id", Id, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("source", String(ID_LENGTH), nullable=False),  # file:tweets.jsonl, x-stream, wa-webhook
    Column("digest", String(64), nullable=False),  # sha256 of the raw bytes
    Column("received_at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | processed | rejected | failed
    Column("error", Text),
    # When the database last refused the entry (status failed: set aside until retried).
    Column("failed_at", UTCDateTime),
    # The drain worker holding the entry, and until when (pipeline/journal.py `claim_batch`);
    # `claimed_by` stays after processing: the worker that did the work.
    Column("claimed_by", String(ID_LENGTH)),
    Column("claimed_until", UTCDateTime),
    UniqueConstraint("channel", "digest", name="uq_journal_channel_digest"),
    Index("ix_journal_status_id", "status", "id"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Id, primary_key=True),
    Column("ref", String(32), nullable=False, unique=True),
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
    Column("assignee_id", Id, ForeignKey("users.id")),
    Column("citizen_id", Id, ForeignKey("citizens.id")),
    Column("channel", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("priority", String(8), nullable=False),  # p1 (sos) .. p4
    Column("kind", String(16), nullable=False),
    Column("category", String(40)),
    Column("urgency", String(8), nullable=False),
    Column("language", String(16), nullable=False),
    Column("summary", Text, nullable=False),  # masked text of the opening message
    Column("route_reason", String(24), nullable=False),
    Column("route_detail", String(300), nullable=False),
    Column("labels", JSONType, nullable=False, default=list),
    Column("message_count", Integer, nullable=False, default=1),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_citizen_at", UTCDateTime, nullable=False),
    Column("first_response_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    # SLA: deadlines from the unit's policy, shifted while the ticket awaits the citizen.
    Column("first_response_due", UTCDateTime),
    Column("resolution_due", UTCDateTime),
    Column("sla_paused_at", UTCDateTime),
    Column("escalation_level", Integer, nullable=False, default=0, server_default="0"),
    Column("escalation_unit_id", Id, ForeignKey("units.id")),
    # Accountability counters: transfers returned, reopenings by citizens, appeals upward.
    Column("bounce_count", Integer, nullable=False, default=0, server_default="0"),
    Column("reopen_count", Integer, nullable=False, default=0, server_default="0"),
    Column("appeal_count", Integer, nullable=False, default=0, server_default="0"),
    # Mass incidents: many citizens, one problem (the same train, the same station, the same kind).
    Column("incident_key", String(80)),
    Column("incident_id", Id, ForeignKey("incidents.id"), index=True),
    # Tickets belong to posts ("SHO Kotwali"), not people: the officer holding the post now works it.
    Column("position_id", Id, ForeignKey("positions.id"), index=True),
    # Opened by a message sent to the agency alone (WhatsApp, an X DM, the web form): its
    # words are never shown on a public page or feed.
    Column("sent_privately", Boolean, nullable=False, default=False, server_default=false()),
    # Where the problem is, as the opening message said (Open311 lat/long and address_string,
    # a WhatsApp location); the address masked like the summary; a photo's URL (migration 0023).
    Column("lat", Float),
    Column("long", Float),
    Column("address", String(500)),
    Column("zipcode", String(12)),
    Column("media_url", String(1000)),
    Index("ix_tickets_unit_status", "unit_id", "status", "id"),
    Index("ix_tickets_resolution_due", "resolution_due"),
    Index("ix_tickets_incident_key", "incident_key", "incident_id", "opened_at"),
    Index("ix_tickets_citizen_status", "citizen_id", "status"),
    Index("ix_tickets_opened_at", "opened_at"),
    # The inbox's queue counts and deadline order (migration 0026).
    Index("ix_tickets_assignee_status", "assignee_id", "status"),
    Index("ix_tickets_urgency_status", "urgency", "status"),
    Index("ix_tickets_first_response_due", "first_response_at", "first_response_due"),
    Index("ix_tickets_status_resolution_due", "status", "resolution_due"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True),
    Column("channel", String(32), ForeignKey("channels.code"), nullable=False),
    Column("external_id", String(ID_LENGTH), nullable=False),
    Column("direction", String(8), nullable=False),  # in | out
    Column("citizen_id", Id, ForeignKey("citizens.id")),
    Column("ticket_id", Id, ForeignKey("tickets.id"), index=True),
    Column("journal_id", Id, ForeignKey("journal.id")),
    Column("conversation_id", String(ID_LENGTH), index=True),
    Column("in_reply_to_id", String(ID_LENGTH)),
    Column("author_handle", String(ID_LENGTH)),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # The raw payload is in the journal row (journal_id); it is not stored twice.
    # The exactly-once guarantee: one row per channel message, whichever path saw it first.
    UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
)

triage_results = Table(
    "triage_results",
    metadata,
    Column("message_id", Id, ForeignKey("messages.id"), primary_key=True),
    Column("model_version", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("actionable", Boolean, nullable=False),
    Column("score", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("category", String(40)),
    Column("urgency", String(8), nullable=False),
    Column("entities", JSONType, nullable=False),
    Column("masked_text", Text, nullable=False),
)

# A post that triage screened out (not actionable, the agency's words, or an organisation's
# ignore rule) and that opened no ticket: in the queue of the unit routing names for it
# (`unit_id`) until an officer makes a ticket of it (`promoted`) or confirms it (`noise`).
screened_posts = Table(
    "screened_posts",
    metadata,
    Column("message_id", Id, ForeignKey("messages.id"), primary_key=True, autoincrement=False),
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
    Column("reason", String(16), nullable=False),  # noise | praise | spam | agency | rule
    Column("score", Float, nullable=False),
    Column("posted_at", UTCDateTime, nullable=False),
    Column("screened_at", UTCDateTime, nullable=False),
    Column("status", String(12), nullable=False),  # open | promoted | noise
    Column("ticket_id", Id, ForeignKey("tickets.id")),
    Index("ix_screened_posts_unit_status", "unit_id", "status", "posted_at", "message_id"),
)

# Officers' decisions on screened-out posts, append-only: labels for the next `seva train`.
triage_decisions = Table(
    "triage_decisions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=False, index=True),
    Column("decision", String(12), nullable=False),  # ticket | noise
    Column("actor", String(64), nullable=False),  # 'user:<username>'
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text),  # the officer's why, if given
    Column("ticket_id", Id, ForeignKey("tickets.id")),
)

# What authors changed after sending (revisions/applied in pipeline/revisions.py): a
# deletion, or an edit with the new words. One row per channel event; applied to the message
# whenever it is stored, before or after the revision arrived.
message_revisions = Table(
    "message_revisions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),  # the message revised
    Column("kind", String(16), nullable=False),  # deleted | edited
    Column("event_id", String(255), nullable=False),  # the channel's id of the revision
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("text", Text),  # an edit's new words (cleared if the message is deleted)
    Column("applied_at", UTCDateTime),  # null while the message is not yet stored
    Column("scrubbed_at", UTCDateTime),  # a deletion: other journal copies scrubbed
    UniqueConstraint("channel", "event_id", name="uq_message_revisions_channel"),
    Index("ix_message_revisions_message", "channel", "external_id"),
)

# Append-only audit: rows are only ever inserted (database triggers refuse UPDATE and DELETE).
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("ticket_id", Id, ForeignKey("tickets.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),  # 'system' or 'user:<username>'
    Column("action", String(32), nullable=False),
    Column("before", JSONType),
    Column("after", JSONType),
    Column("note", Text),
    Index("ix_ticket_events_ticket_id", "ticket_id", "id"),
)

ticket_sequences = Table(
    "ticket_sequences",
    metadata,
    Column("prefix", String(8), primary_key=True),
    Column("last_value", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),  # agent | supervisor | admin | viewer
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
    Column("password_hash", String(200)),
    Column("languages", JSONType, nullable=False, default=list),
    Column("active", Boolean, nullable=False, default=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of a 256-bit random token
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("label", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_api_tokens_user_id", "user_id"),
)

# Failed sign-ins per account (the username tried) and per client address; a run of them
# locks further attempts until `locked_until` (domain/sign_in.py has the arithmetic).
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("scope", String(8), primary_key=True),  # account | address
    Column("key", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
)

# Append-only audit of accounts: tokens issued and revoked, sign-ins locked and unlocked.
account_events = Table(
    "account_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),  # 'cli', 'system' or 'user:<username>'
    Column("action", String(32), nullable=False),
    Column("subject", String(100), nullable=False),  # a username, or address:<ip>
    Column("detail", Text),
)

reply_templates = Table(
    "reply_templates",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False),
    Column("language", String(16)),  # null: any language
    Column("unit_id", Id, ForeignKey("units.id")),  # null: available to every unit
    Column("body", Text, nullable=False),
    Column("channel", String(16)),  # x | whatsapp; null: any channel
    # org_file: declared by the organisation file (replaced when it is applied again); desk:
    # made by an admin in the desk's template editor.
    Column("source", String(16), nullable=False, server_default="org_file"),
    Column("updated_by", String(64)),
    Column("updated_at", UTCDateTime),
    UniqueConstraint("code", "language", "channel", "unit_id", name="uq_reply_templates_code"),
)

sla_policies = Table(
    "sla_policies",
    metadata,
    Column("id", Id, primary_key=True),
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
    Column("category", String(40)),  # null: any
    Column("urgency", String(8)),  # null: any
    Column("first_response_minutes", Integer, nullable=False),
    Column("resolution_minutes", Integer, nullable=False),
    Column("calendar", String(32), nullable=False, default="24x7"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("ticket_id", Id, ForeignKey("tickets.id")),
    Column("in_reply_to_id", String(ID_LENGTH)),
    Column("recipient", String(ID_LENGTH)),
    Column("body", Text, nullable=False),
    # pending → sending → sent, or back to pending (retry), unknown (timed out: check the
    # channel before sending again), or dead (after the last attempt; shown to agents).
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("external_id", String(ID_LENGTH)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # text | template | interactive | dm; `payload` holds what the kind needs (template name
    # and parameters, buttons, the parts of a reply split over several posts and their ids).
    Column("kind", String(16), nullable=False, server_default="text"),
    Column("payload", JSONType),
    # A worker holds the entry until then; a crashed worker's entry is checked, then retried.
    Column("lease_until", UTCDateTime),
    # What the channel reported after sending (WhatsApp: sent, delivered, read, failed).
    Column("delivery_status", String(16)),
    Column("delivery_updated_at", UTCDateTime),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# Delivery receipts as the channel sent them (WhatsApp status callbacks), stored before the
# webhook is acknowledged; the outbox entry carries the latest one.
outbox_receipts = Table(
    "outbox_receipts",
    metadata,
    Column("id", Id, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(ID_LENGTH), nullable=False),
    Column("outbox_id", Id, ForeignKey("outbox.id"), index=True),
    Column("status", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("error", Text),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "external_id", "status", name="uq_outbox_receipts_channel"),
)

# The ingestion ledger: one row per source (x-stream, x-search, x-webhook, wa-webhook …).
ingest_sources = Table(
    "ingest_sources",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # connected | reconnecting | idle | stopped
    Column("last_id", String(64)),  # newest post id seen (X ids grow with time)
    Column("newest_at", UTCDateTime),  # created_at of that post
    Column("last_received_at", UTCDateTime),
    Column("lag_seconds", Float),
    Column("gaps_detected", Integer, nullable=False, server_default="0"),
    Column("gaps_backfilled", Integer, nullable=False, server_default="0"),
    Column("quota_month", String(7)),  # YYYY-MM the usage below belongs to
    Column("quota_used", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Outages of a source and whether the posts they hid were recovered.
ingest_gaps = Table(
    "ingest_gaps",
    metadata,
    Column("id", Id, primary_key=True),
    Column("source", String(64), nullable=False, index=True),
    Column("since_id", String(64)),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("backfilled_at", UTCDateTime),
    Column("recovered", Integer, nullable=False, server_default="0"),
)

# Keys for GeoReport v2 clients (civic apps); only a digest is stored.
open311_clients = Table(
    "open311_clients",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("key_digest", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Organisation-wide settings loaded from the org file (e.g. "triage": categories and rules).
org_settings = Table(
    "org_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSONType, nullable=False),
)

# What a supervisor must look at: SLA escalations now, transfers and alarms later.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Id, primary_key=True),
    # To one user, or (user_id empty) to a unit: everyone whose scope covers it (migration 0025).
    Column("user_id", Id, ForeignKey("users.id")),
    Column("ticket_id", Id, ForeignKey("tickets.id")),
    Column("kind", String(32), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),  # before 0025; read state is now per user, below
    Column("unit_id", Id, ForeignKey("units.id")),
    Index("ix_notifications_user_read", "user_id", "read_at"),
    Index("ix_notifications_unit_id", "unit_id", "id"),
)

# Alerts: who has read which notification (a unit's alert is read by each officer apart).
notification_reads = Table(
    "notification_reads",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("notification_id", Id, ForeignKey("notifications.id"), primary_key=True),
    Column("read_at", UTCDateTime, nullable=False),
)

# Alerts: a user's own settings for the desk's bell (the SOS sound muted or not).
alert_preferences = Table(
    "alert_preferences",
    metadata,
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("sound_muted", Boolean, nullable=False, default=False, server_default=false()),
    # "Mark all read": every notification up to this id is read, without a row for each.
    Column("read_through", Id, nullable=False, default=0, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("on_duty", Boolean, nullable=False, default=False),  # takes SOS tickets first
    Column("languages", JSONType, nullable=False, default=list),
    Column("skills", JSONType, nullable=False, default=list),  # categories this post handles best
    Column("capacity", Integer, nullable=False, default=50),  # open tickets before it is full
    Column("last_assigned_at", UTCDateTime),  # round-robin order
)

# The duty roster: who holds which post when. A transfer or a shift change ends a holding;
# the post and its tickets stay.
position_holders = Table(
    "position_holders",
    metadata,
    Column("id", Id, primary_key=True),
    Column("position_id", Id, ForeignKey("positions.id"), nullable=False, index=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Id, primary_key=True),
    Column("ref", String(32), nullable=False, unique=True),
    Column("key", String(80), nullable=False, index=True),  # e.g. "delay:train:12951"
    Column("unit_id", Id, ForeignKey("units.id"), nullable=False),
    Column("title", String(300), nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("ticket_count", Integer, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

# Near-duplicate posts (MinHash/LSH, routing/similar.py): the signature of each recent ticket
# that names no train or station, and its band keys; rows older than the incident window are
# pruned by the SLA pass.
incident_sketches = Table(
    "incident_sketches",
    metadata,
    Column("ticket_id", Id, ForeignKey("tickets.id"), primary_key=True, autoincrement=False),
    Column("opened_at", UTCDateTime, nullable=False, index=True),
    Column("signature", LargeBinary, nullable=False),
    # The same words as an earlier ticket: found through it, so it has no bands of its own.
    Column("copy_of", Id, index=True),
)

incident_bands = Table(
    "incident_bands",
    metadata,
    Column("band", BigInteger, primary_key=True),
    Column("ticket_id", Id, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,  # the key is the table: one B-tree write per band
)

# A transfer between units is an offer the receiving unit accepts or returns before a deadline.
transfer_offers = Table(
    "transfer_offers",
    metadata,
    Column("id", Id, primary_key=True),
    Column("ticket_id", Id, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("from_unit_id", Id, ForeignKey("units.id"), nullable=False),
    Column("to_unit_id", Id, ForeignKey("units.id"), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("offered_by", String(64), nullable=False),
    Column("offered_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # pending | accepted | returned | expired
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime),
    Column("note", Text),
    # The desk's queues: pending offers to a unit, a unit's latest offers (migration 0024).
    Index("ix_transfer_offers_status_to_unit", "status", "to_unit_id"),
    Index("ix_transfer_offers_from_unit_id", "from_unit_id", "id"),
)

# The WhatsApp bot's conversation with each citizen; `version` guards against two workers
# answering the same citizen at once (optimistic concurrency).
bot_sessions = Table(
    "bot_sessions",
    metadata,
    Column("wa_id", String(ID_LENGTH), primary_key=True),
    Column("step", String(40), nullable=False),
    Column("lang", String(8)),
    Column("data", JSONType, nullable=False),
    Column("misses", Integer, nullable=False, server_default="0"),
    Column("handoff_ref", String(24)),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the citizen last wrote: opens Meta's 24-hour window for free-form replies.
    Column("last_inbound_at", UTCDateTime),
)

# Browser sessions of the desk's web interface: the cookie holds a random token, the table
# only its digest, the CSRF token every form must echo, and when the session ends.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

# Report rollups, kept up to date as events happen: one row per unit, category, day and
# hour. Reports sum these rows and never scan tickets. Durations are kept as histograms
# (bucket bounds in store/rollups.py) so medians and p90s come from the rollups too.
ROLLUP_BUCKETS = 12


def _rollup_table(name: str, hourly: bool) -> Table:
    return Table(
        name,
        metadata,
        Column("unit_id", Id, ForeignKey("units.id"), primary_key=True),
        *([Column("category", String(40), primary_key=True)] if hourly else []),  # '' if none
        Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC)
        *([Column("hour", Integer, primary_key=True)] if hourly else []),
        Column("received", Integer, nullable=False, server_default="0"),
        Column("actionable", Integer, nullable=False, server_default="0"),
        Column("opened", Integer, nullable=False, server_default="0"),
        Column("resolved", Integer, nullable=False, server_default="0"),
        Column("resolved_in_sla", Integer, nullable=False, server_default="0"),
        Column("first_responses", Integer, nullable=False, server_default="0"),
        Column("first_response_in_sla", Integer, nullable=False, server_default="0"),
        # Posts triage screened out (no ticket) and those an officer then made a ticket of,
        # counted at the unit routing named for them, on the day they were screened out.
        Column("screened", Integer, nullable=False, server_default="0"),
        Column("promoted", Integer, nullable=False, server_default="0"),
        *[
            Column(f"fr_{i}", Integer, nullable=False, server_default="0")
            for i in range(ROLLUP_BUCKETS)
        ],
        *[
            Column(f"rs_{i}", Integer, nullable=False, server_default="0")
            for i in range(ROLLUP_BUCKETS)
        ],
        Index(f"ix_{name}_day", "day"),
    )


# Hour by hour with the category (the export, curves within a day), and day by day per unit
# (every report over a period): a 30-day report of the whole organisation sums a few
# thousand rows whatever the number of tickets. Category trends have their own narrow table.
rollups = _rollup_table("rollups", hourly=True)
rollups_daily = _rollup_table("rollups_daily", hourly=False)
rollups_category = Table(
    "rollups_category",
    metadata,
    Column("unit_id", Id, ForeignKey("units.id"), primary_key=True),
    Column("category", String(40), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("opened", Integer, nullable=False, server_default="0"),
    # Covering, in GROUP BY order: the reports read the index only (migration 0029).
    Index("ix_rollups_category_day_category", "day", "category", "unit_id", "opened"),
)

# Every change to the organisation's configuration (org file loads, admin uploads): who,
# when, and the diff. Append-only, like the ticket audit trail.
config_changes = Table(
    "config_changes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Column("diff", Text, nullable=False),
    Column("text", Text, nullable=False),  # the org file as loaded
)

# An officer's saved inbox views: a name and the query string (queue, filters, sort) it
# stands for, listed in the inbox's navigation (migration 0026).
saved_views = Table(
    "saved_views",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), nullable=False),
    Column("name", String(60), nullable=False),
    Column("query", String(1000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name"),
)
