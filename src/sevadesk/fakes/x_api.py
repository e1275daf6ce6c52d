"""A fake X API v2: filtered stream (with rules), recent search, user timeline, posting,
DMs and their lookup, and Account Activity webhook delivery, speaking X's payload formats.

Behaviour copied from X's documentation: a stream connection carries only posts published
while it is open, with a `\\r\\n` keep-alive when idle; every response carries
`x-rate-limit-limit/remaining/reset`; a 429 names its reset time; posting the same text twice
is refused as duplicate content (403); a user's timeline and the DM events come newest first,
a page at a time (`max_results`, `pagination_token`, `meta.next_token`). Faults are injected
through methods on `FakeX`, before a request is handled (`fail`) or after X has accepted it
(`fail_after_accepting`: the post is made, the answer is a 5xx or comes too late).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from sevadesk.channels.signatures import x_crc_response, x_signature
from sevadesk.domain import post_text


@dataclass
class _Faults:
    drop_after: int | None = None  # tear the stream after this many more posts
    stall_for: float = 0.0  # go silent (no keep-alive) this long, then close
    rate_limited_connects: int = 0
    rate_reset_in: float = 2.0
    failing: dict[str, list[int]] = field(default_factory=dict)  # path prefix → statuses
    post_delay: float = 0.0  # answer POST /2/tweets this late (after storing the post)
    post_delay_count: int = 0
    # path prefix → what happens after the post or DM is stored: a status, or "timeout"
    accepted: dict[str, list[int | str]] = field(default_factory=dict)
    accepted_delay: float = 2.0


class FakeX:
    """State of the fake: users, tweets, stream rules, and the faults to inject next."""

    def __init__(
        self,
        agency_username: str = "RailMinIndia",
        agency_id: str = "1000",
        search_limit: int = 450,
        keepalive_seconds: float = 20.0,
    ) -> None:
        self.lock = threading.Lock()
        self.agency = {"id": agency_id, "username": agency_username, "name": agency_username}
        self.users: dict[str, dict[str, str]] = {agency_id: self.agency}
        self.tweets: list[dict[str, Any]] = []  # in id order
        self.rules: dict[str, dict[str, str]] = {}
        self.dms: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []  # bodies of POST /2/tweets as received
        self.stream_connects = 0
        self.search_calls = 0
        self.search_limit = search_limit
        self.search_remaining = search_limit
        self.search_reset = time.time() + 900
        self.keepalive_seconds = keepalive_seconds
        self.faults = _Faults()
        self._ids = itertools.count(1_860_000_000_000_000_000)
        self._rule_ids = itertools.count(1)

    # Test controls -------------------------------------------------------------------------

    def citizen_post(
        self,
        text: str,
        username: str = "citizen",
        user_id: str | None = None,
        in_reply_to: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        with self.lock:
            tid = str(next(self._ids))
            uid = user_id or str(abs(hash(username)) % 10**12 + 10**12)
            self.users.setdefault(uid, {"id": uid, "username": username, "name": username})
            tweet: dict[str, Any] = {
                "id": tid,
                "text": text,
                "author_id": uid,
                "created_at": (created_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
                "conversation_id": tid,
                "lang": "en",
                "entities": {
                    "mentions": [
                        {"username": m.screen_name, "start": m.start, "end": m.end}
                        for m in post_text.mentions_with_indices(text)
                    ],
                    "hashtags": [
                        {"tag": h.tag, "start": h.start, "end": h.end}
                        for h in post_text.hashtags_with_indices(text)
                    ],
                },
                "edit_history_tweet_ids": [tid],
            }
            if in_reply_to:
                parent = self._find(in_reply_to)
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
                tweet["conversation_id"] = parent["conversation_id"] if parent else in_reply_to
            self.tweets.append(tweet)
            return tid

    def drop_stream_after(self, posts: int) -> None:
        """The open (or next) stream sends `posts` more posts, half of the next, then dies."""
        self.faults.drop_after = posts

    def stall_stream(self, seconds: float) -> None:
        self.faults.stall_for = seconds

    def rate_limit_connects(self, count: int, reset_in: float) -> None:
        self.faults.rate_limited_connects, self.faults.rate_reset_in = count, reset_in

    def fail(self, path_prefix: str, *statuses: int) -> None:
        """The next requests under `path_prefix` answer these statuses, one each."""
        self.faults.failing.setdefault(path_prefix, []).extend(statuses)

    def slow_posts(self, seconds: float, count: int = 1) -> None:
        self.faults.post_delay, self.faults.post_delay_count = seconds, count

    def fail_after_accepting(
        self, path_prefix: str, *faults: int | str, delay: float = 2.0
    ) -> None:
        """The next writes under `path_prefix` are stored, then answered with these faults,
        one each: a 5xx status, or "timeout" (the answer comes `delay` seconds late)."""
        with self.lock:
            self.faults.accepted.setdefault(path_prefix, []).extend(faults)
            self.faults.accepted_delay = delay

    def _accepted_fault(self, path: str) -> int | str | None:
        with self.lock:
            for prefix, faults in self.faults.accepted.items():
                if path.startswith(prefix) and faults:
                    return faults.pop(0)
        return None

    def agency_posts(self, count: int, prefix: str = "Notice") -> None:
        """The agency's account posts `count` posts of its own (news, other replies)."""
        for n in range(count):
            self.citizen_post(
                f"{prefix} {n}: trains run on time", self.agency["username"], self.agency["id"]
            )

    def replies_to(self, tweet_id: str) -> list[dict[str, Any]]:
        return [
            t
            for t in self.tweets
            if t["author_id"] == self.agency["id"]
            and {"type": "replied_to", "id": tweet_id} in t.get("referenced_tweets", [])
        ]

    def account_activity_body(self, tweet_id: str) -> dict[str, Any]:
        """The Account Activity delivery for one of the fake's tweets (v1.1 format)."""
        tw = self._find(tweet_id)
        assert tw is not None
        user = self.users[tw["author_id"]]
        created = datetime.fromisoformat(tw["created_at"].replace("Z", "+00:00"))
        reply = next(
            (r["id"] for r in tw.get("referenced_tweets", []) if r["type"] == "replied_to"), None
        )
        return {
            "for_user_id": self.agency["id"],
            "tweet_create_events": [
                {
                    "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                    "id": int(tw["id"]),
                    "id_str": tw["id"],
                    "text": tw["text"],
                    "in_reply_to_status_id_str": reply,
                    "user": {
                        "id": int(user["id"]),
                        "id_str": user["id"],
                        "name": user["name"],
                        "screen_name": user["username"],
                    },
                    "entities": {
                        "hashtags": [{"text": h["tag"]} for h in tw["entities"]["hashtags"]],
                        "user_mentions": [
                            {"screen_name": m["username"]} for m in tw["entities"]["mentions"]
                        ],
                    },
                    "lang": tw.get("lang"),
                }
            ],
        }

    def citizen_deletes(self, tweet_id: str) -> dict[str, Any]:
        """The author deletes a post: it leaves the fake (stream, search, timelines), and the
        Account Activity delivery X sends for it is returned, in the shape X's documentation
        gives (`tweet_delete_events`, a status id and user id, the time in milliseconds)."""
        with self.lock:
            tw = self._find(tweet_id)
            assert tw is not None, f"no post {tweet_id}"
            self.tweets.remove(tw)
        return {
            "for_user_id": self.agency["id"],
            "tweet_delete_events": [
                {
                    "status": {"id": tweet_id, "user_id": tw["author_id"]},
                    "timestamp_ms": str(int(time.time() * 1000)),
                }
            ],
        }

    @staticmethod
    def deliver(url: str, body: dict[str, Any], secret: str | None) -> httpx.Response:
        """POST a webhook delivery signed as X signs it (no header when `secret` is None)."""
        raw = orjson.dumps(body)
        headers = {"content-type": "application/json"}
        if secret is not None:
            headers["x-twitter-webhooks-signature"] = x_signature(secret, raw)
        return httpx.post(url, content=raw, headers=headers, timeout=10)

    @staticmethod
    def crc_check(url: str, secret: str) -> bool:
        token = "crc-" + str(time.time())
        response = httpx.get(url, params={"crc_token": token}, timeout=10)
        return bool(
            response.status_code == 200
            and response.json().get("response_token") == x_crc_response(secret, token)
        )

    # Internals ------------------------------------------------------------------------------

    def _find(self, tweet_id: str) -> dict[str, Any] | None:
        return next((t for t in self.tweets if t["id"] == tweet_id), None)

    def matches(self, query: str, tweet: dict[str, Any]) -> bool:
        """The subset of X's rule language the desk uses: `(a OR b) -is:retweet`, where a
        term is `@handle`, `#tag`, `from:user` or a word."""
        if tweet["author_id"] == self.agency["id"] and "from:" not in query:
            return False
        text = tweet["text"].lower()
        terms = query.replace("(", " ").replace(")", " ").split()
        wanted = [t.lower() for t in terms if t not in ("OR",) and not t.startswith("-")]
        for term in wanted:
            if term.startswith("from:"):
                user = self.users.get(tweet["author_id"], {})
                if user.get("username", "").lower() == term[5:]:
                    return True
            elif term in text:
                return True
        return False

    def _event(self, tweet: dict[str, Any], rules: list[dict[str, str]] | None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "data": tweet,
            "includes": {"users": [self.users[tweet["author_id"]]]},
        }
        if rules is not None:
            event["matching_rules"] = [{"id": r["id"], "tag": r["tag"]} for r in rules]
        return event

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.search_limit),
            "x-rate-limit-remaining": str(max(self.search_remaining, 0)),
            "x-rate-limit-reset": str(int(self.search_reset)),
        }

    def _injected(self, path: str) -> Response | None:
        for prefix, statuses in self.faults.failing.items():
            if path.startswith(prefix) and statuses:
                status = statuses.pop(0)
                headers = None
                if status == 429:
                    reset = str(int(time.time() + self.faults.rate_reset_in))
                    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
                return JSONResponse(
                    {"title": "Injected fault", "detail": f"injected {status}", "status": status},
                    status_code=status,
                    headers=headers,
                )
        return None


def _created(tweet: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page(
    items: list[dict[str, Any]],
    size: int,
    token: str | None,
    newest_oldest: bool = True,
) -> dict[str, Any]:
    """One page of a newest-first list, as X pages its lookups."""
    start = int(token) if token and token.isdigit() else 0
    page = items[start : start + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page and newest_oldest:
        meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
    if start + len(page) < len(items):
        meta["next_token"] = str(start + len(page))
    if start:
        meta["previous_token"] = str(max(start - size, 0))
    return {"data": page, "meta": meta} if page else {"meta": meta}


def _problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        {"title": title, "detail": detail, "type": "about:blank", "status": status},
        status_code=status,
        headers=headers,
    )


def create_fake_x(fake: FakeX, bearer_token: str, user_token: str) -> FastAPI:
    app = FastAPI(title="fake X API v2")

    @app.middleware("http")
    async def auth_and_faults(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/_fake/"):  # the fake's own window, for people
            response_: Response = await call_next(request)
            return response_
        wanted = request.headers.get("authorization")
        # Reads of public data use the app's bearer token; acting as the account needs the
        # user's token, as on X.
        search = request.url.path.startswith("/2/tweets/search/")
        token = bearer_token if search else user_token
        if wanted != f"Bearer {token}":
            return _problem(401, "Unauthorized", "Unauthorized")
        injected = fake._injected(request.url.path)
        if injected is not None:
            return injected
        response: Response = await call_next(request)
        return response

    @app.get("/_fake/replies")
    def fake_replies() -> list[dict[str, Any]]:
        """What the desk posted, newest first (not part of X's API)."""
        with fake.lock:
            return [t for t in reversed(fake.tweets) if t["author_id"] == fake.agency["id"]][:100]

    @app.get("/2/tweets/search/stream/rules")
    def get_rules() -> dict[str, Any]:
        rules = list(fake.rules.values())
        return {
            "data": rules,
            "meta": {"sent": datetime.now(UTC).isoformat(), "result_count": len(rules)},
        }

    @app.post("/2/tweets/search/stream/rules")
    async def change_rules(request: Request) -> Response:
        body = orjson.loads(await request.body())
        with fake.lock:
            if "add" in body:
                added = []
                for rule in body["add"]:
                    if len(rule.get("value", "")) > 1024:
                        return _problem(400, "Invalid Request", "rule too long")
                    rid = str(next(fake._rule_ids))
                    fake.rules[rid] = {
                        "id": rid,
                        "value": rule["value"],
                        "tag": rule.get("tag", ""),
                    }
                    added.append(fake.rules[rid])
                return JSONResponse({"data": added, "meta": {"summary": {"created": len(added)}}})
            deleted = 0
            for rid in body.get("delete", {}).get("ids", []):
                deleted += fake.rules.pop(rid, None) is not None
            return JSONResponse({"meta": {"summary": {"deleted": deleted}}})

    @app.get("/2/tweets/search/stream")
    async def stream(request: Request) -> Response:
        with fake.lock:
            if fake.faults.rate_limited_connects > 0:
                fake.faults.rate_limited_connects -= 1
                reset = int(time.time() + fake.faults.rate_reset_in)
                return _problem(
                    429,
                    "Too Many Requests",
                    "Too Many Requests",
                    {
                        "x-rate-limit-limit": "50",
                        "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(reset),
                    },
                )
            fake.stream_connects += 1
            position = len(fake.tweets)  # a connection sees only what is posted from now on
            if request.query_params.get("backfill_minutes"):
                minutes = int(request.query_params["backfill_minutes"])
                since = time.time() - minutes * 60
                position = next(
                    (
                        i
                        for i, t in enumerate(fake.tweets)
                        if datetime.fromisoformat(
                            t["created_at"].replace("Z", "+00:00")
                        ).timestamp()
                        >= since
                    ),
                    position,
                )

        async def lines() -> Any:
            nonlocal position
            idle_since = time.monotonic()
            while True:
                if await request.is_disconnected():
                    return
                if fake.faults.stall_for:
                    stall, fake.faults.stall_for = fake.faults.stall_for, 0.0
                    await asyncio.sleep(stall)
                    return
                with fake.lock:
                    batch = fake.tweets[position:]
                    position = len(fake.tweets)
                    rules = list(fake.rules.values())
                for tweet in batch:
                    matched = [r for r in rules if fake.matches(r["value"], tweet)]
                    if not matched:
                        continue
                    line = orjson.dumps(fake._event(tweet, matched)) + b"\r\n"
                    if fake.faults.drop_after is not None:
                        if fake.faults.drop_after == 0:
                            fake.faults.drop_after = None
                            yield line[: len(line) // 2]
                            raise ConnectionAbortedError("fake X: stream torn mid-message")
                        fake.faults.drop_after -= 1
                    yield line
                    idle_since = time.monotonic()
                if time.monotonic() - idle_since >= fake.keepalive_seconds:
                    yield b"\r\n"
                    idle_since = time.monotonic()
                await asyncio.sleep(0.02)

        return StreamingResponse(lines(), media_type="application/json")

    @app.get("/2/tweets/search/recent")
    def search(
        query: str,
        since_id: str | None = None,
        next_token: str | None = None,
        max_results: int = 10,
        start_time: str | None = None,
    ) -> Response:
        start_at = datetime.fromisoformat(start_time.replace("Z", "+00:00")) if start_time else None
        with fake.lock:
            fake.search_calls += 1
            if time.time() >= fake.search_reset:
                fake.search_remaining, fake.search_reset = fake.search_limit, time.time() + 900
            if fake.search_remaining <= 0:
                return _problem(429, "Too Many Requests", "Too Many Requests", fake._rate_headers())
            fake.search_remaining -= 1
            hits = [
                t
                for t in reversed(fake.tweets)
                if fake.matches(query, t)
                and (since_id is None or int(t["id"]) > int(since_id))
                and (start_at is None or _created(t) >= start_at)
            ]
        start = int(next_token or 0)
        page = hits[start : start + max(10, min(max_results, 100))]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if start + len(page) < len(hits):
            meta["next_token"] = str(start + len(page))
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            body["includes"] = {
                "users": [fake.users[uid] for uid in {t["author_id"] for t in page}]
            }
        return JSONResponse(body, headers=fake._rate_headers())

    @app.get("/2/users/me")
    def me() -> dict[str, Any]:
        return {"data": fake.agency}

    @app.get("/2/users/{user_id}/tweets")
    def user_tweets(
        user_id: str,
        since_id: str | None = None,
        start_time: str | None = None,
        max_results: int = 10,
        pagination_token: str | None = None,
    ) -> Response:
        # X: newest first, 5 to 100 a page (10 unless asked), `meta.next_token` to go on.
        if not 5 <= max_results <= 100:
            return _problem(400, "Invalid Request", "max_results must be between 5 and 100")
        start_at = datetime.fromisoformat(start_time.replace("Z", "+00:00")) if start_time else None
        with fake.lock:
            mine = [
                t
                for t in reversed(fake.tweets)
                if t["author_id"] == user_id
                and (since_id is None or int(t["id"]) > int(since_id))
                and (start_at is None or _created(t) >= start_at)
            ]
        return JSONResponse(_page(mine, max_results, pagination_token))

    @app.post("/2/tweets")
    async def post_tweet(request: Request) -> Response:
        body = orjson.loads(await request.body())
        text = body.get("text", "")
        with fake.lock:
            fake.posted.append(body)
            if not post_text.fits(text):
                return _problem(400, "Invalid Request", "Your Tweet text is too long.")
            if any(t["text"] == text and t["author_id"] == fake.agency["id"] for t in fake.tweets):
                return _problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
            reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            if reply_to and fake._find(reply_to) is None:
                return _problem(400, "Invalid Request", "The tweet you replied to does not exist.")
        tid = fake.citizen_post(text, fake.agency["username"], fake.agency["id"], reply_to)
        if fake.faults.post_delay_count > 0:
            fake.faults.post_delay_count -= 1
            await asyncio.sleep(fake.faults.post_delay)
        fault = await _after_accepting(request.url.path)
        if fault is not None:
            return fault
        return JSONResponse(
            {"data": {"id": tid, "text": text, "edit_history_tweet_ids": [tid]}}, 201
        )

    @app.post("/2/dm_conversations/with/{participant_id}/messages")
    async def send_dm(participant_id: str, request: Request) -> Response:
        body = orjson.loads(await request.body())
        with fake.lock:
            event_id = str(next(fake._ids))
            me = fake.agency["id"]
            conversation = "-".join(sorted((me, participant_id), key=int))
            fake.dms.append(
                {
                    "to": participant_id,
                    "text": body.get("text"),
                    "id": event_id,
                    "event_type": "MessageCreate",
                    "sender_id": me,
                    "dm_conversation_id": conversation,
                    "participant_ids": [me, participant_id],
                    "created_at": _stamp(datetime.now(UTC)),
                }
            )
        fault = await _after_accepting(request.url.path)
        if fault is not None:
            return fault
        return JSONResponse(
            {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}}, 201
        )

    @app.get("/2/dm_events")
    def dm_events(
        request: Request,
        max_results: int = 100,
        pagination_token: str | None = None,
        event_types: str | None = None,
    ) -> Response:
        """GET /2/dm_events: the account's DM events of the last 30 days, newest first, 1 to
        100 a page; `id`, `event_type` and `text` unless `dm_event.fields` asks for more."""
        if not 1 <= max_results <= 100:
            return _problem(400, "Invalid Request", "max_results must be between 1 and 100")
        asked = set(filter(None, (request.query_params.get("dm_event.fields") or "").split(",")))
        allowed = {"created_at", "sender_id", "dm_conversation_id", "participant_ids"}
        allowed |= {"id", "text", "event_type", "referenced_tweets", "attachments"}
        if asked - allowed:
            return _problem(
                400, "Invalid Request", f"unknown dm_event.fields {sorted(asked - allowed)}"
            )
        kinds = set((event_types or "MessageCreate,ParticipantsJoin,ParticipantsLeave").split(","))
        since = datetime.now(UTC) - timedelta(days=30)
        with fake.lock:
            events = [
                {k: v for k, v in e.items() if k in {"id", "event_type", "text"} | asked}
                for e in reversed(fake.dms)
                if e["event_type"] in kinds and _created(e) >= since
            ]
        return JSONResponse(_page(events, max_results, pagination_token, newest_oldest=False))

    async def _after_accepting(path: str) -> Response | None:
        fault = fake._accepted_fault(path)
        if fault == "timeout":
            await asyncio.sleep(fake.faults.accepted_delay)  # the client has given up by now
            return None
        if isinstance(fault, int):
            return _problem(fault, "Service Unavailable", f"injected {fault} after accepting")
        return None

    return app
