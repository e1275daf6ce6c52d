"""`seva connect x|whatsapp`: check credentials and configuration against the configured
base URL, and say what is missing in words an operator can act on."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from sevadesk.channels.whatsapp.client import GraphApiError, WhatsAppClient
from sevadesk.channels.x.client import MissingCredential, XApiError, XClient
from sevadesk.channels.x.rules import TAG, org_terms, pack_rules
from sevadesk.config import Settings
from sevadesk.domain.clock import Clock
from sevadesk.store import ledger
from sevadesk.store.org_repo import channel_settings


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def _setting(name: str, present: bool, why: str) -> Check:
    env = "SEVA_" + name.upper()
    return Check(env, present, "set" if present else f"not set: {why}")


def check_x(settings: Settings, engine: Engine, clock: Clock) -> list[Check]:
    checks = [
        _setting(
            "x_bearer_token",
            settings.secret("x_bearer_token") is not None,
            "needed to read the stream and search",
        ),
        _setting(
            "x_user_token",
            settings.secret("x_user_token") is not None,
            "needed to post replies and DMs",
        ),
        _setting(
            "x_consumer_secrets",
            bool(Settings.secret_list(settings.x_consumer_secrets)),
            "needed only for Account Activity webhooks",
        ),
    ]
    client = XClient.from_settings(settings)
    try:
        try:
            me = client.me()
            checks.append(
                Check("account", True, f"posting as @{me.get('username')} (id {me.get('id')})")
            )
        except (XApiError, MissingCredential) as exc:
            checks.append(Check("account", False, f"GET /2/users/me failed: {exc}"))
        try:
            with engine.connect() as conn:
                wanted = pack_rules(org_terms(conn), settings.x_rule_max_length)
            have = {r.get("value") for r in client.stream_rules() if r.get("tag") == TAG}
            missing, extra = set(wanted) - have, have - set(wanted)
            ok = not missing and not extra
            detail = f"{len(wanted)} rule(s) for the org's handles and hashtags"
            if not ok:
                detail += f"; {len(missing)} to add, {len(extra)} to delete (synced when the stream starts)"
            checks.append(Check("stream rules", ok or settings.x_ingest != "stream", detail))
        except (XApiError, MissingCredential) as exc:
            checks.append(Check("stream rules", False, f"GET stream rules failed: {exc}"))
    except httpx.HTTPError as exc:
        checks.append(
            Check("reachable", False, f"{settings.x_api_base_url}: {type(exc).__name__}: {exc}")
        )
    finally:
        client.close()
    with engine.connect() as conn:
        used = ledger.quota_used(conn, "x", clock.now())
    budget = settings.x_monthly_read_budget
    checks.append(
        Check("read budget", used < budget, f"{used:,} of {budget:,} posts read this month")
    )
    checks.append(
        Check(
            "ingest mode",
            True,
            f"SEVA_X_INGEST={settings.x_ingest}, access level {settings.x_access_level}",
        )
    )
    return checks


def check_whatsapp(settings: Settings, engine: Engine) -> list[Check]:
    checks = [
        _setting(
            "whatsapp_token",
            settings.secret("whatsapp_token") is not None,
            "needed to send messages",
        ),
        _setting(
            "whatsapp_phone_number_id",
            bool(settings.whatsapp_phone_number_id),
            "the number messages go out from",
        ),
        _setting(
            "whatsapp_app_secrets",
            bool(Settings.secret_list(settings.whatsapp_app_secrets)),
            "webhook deliveries cannot be verified (they are refused)",
        ),
        _setting(
            "whatsapp_verify_token",
            settings.secret("whatsapp_verify_token") is not None,
            "Meta's subscription check will fail",
        ),
    ]
    if settings.secret("whatsapp_token") is not None and settings.whatsapp_phone_number_id:
        client = WhatsAppClient.from_settings(settings)
        try:
            info = client.phone_number()
            checks.append(
                Check(
                    "phone number",
                    True,
                    f"{info.get('display_phone_number')} ({info.get('verified_name')}, quality {info.get('quality_rating')})",
                )
            )
        except GraphApiError as exc:
            checks.append(Check("phone number", False, str(exc)))
        except httpx.HTTPError as exc:
            checks.append(
                Check(
                    "reachable", False, f"{settings.whatsapp_base_url}: {type(exc).__name__}: {exc}"
                )
            )
        finally:
            client.close()
    with engine.connect() as conn:
        template = channel_settings(conn).whatsapp
    checks.append(
        Check(
            "update template",
            True,
            f"{template.update_template} ({template.template_language}), used outside the 24-hour window",
        )
    )
    return checks
