"""The `seva` command: thin wrappers that parse arguments, call the package and print.

Each command imports what it needs when it runs: the database layer and the settings
(SQLAlchemy, Alembic, pydantic) took 0.4 s to import, which `seva triage`, the help pages and
any command that touches no database would pay on every start.
"""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sevadesk.runtime import settle_heap

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from sevadesk.config import Settings
    from sevadesk.pipeline.batch import Rejection
    from sevadesk.routing.orgfile import OrgSpec

app = typer.Typer(
    help="sevadesk: a grievance desk for public agencies on X and WhatsApp.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
org_app = typer.Typer(
    help="Organisation: units, handles, jurisdictions, SLA, users.", no_args_is_help=True
)
user_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks on this machine.", no_args_is_help=True)
route_app = typer.Typer(help="Routing: explain a decision, measure accuracy.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(bench_app, name="bench")
app.add_typer(route_app, name="route")

err = Console(stderr=True, soft_wrap=True)
# soft_wrap: long lines (URLs, the demo's curl command) are never broken, so they copy whole.
out = Console(soft_wrap=True)

DatabaseOpt = Annotated[
    str | None, typer.Option("--database", "-d", help="Overrides SEVA_DATABASE_URL.")
]


def _settings(database: str | None) -> Settings:
    from sevadesk import logs
    from sevadesk.config import get_settings

    settings = get_settings()
    logs.configure(settings.log_level)
    if database:
        settings = settings.model_copy(update={"database_url": database})
    return settings


def _engine(settings: Settings) -> Engine:
    from sevadesk.store.db import SchemaOutOfDate, open_database

    try:
        return open_database(settings.database_url)
    except SchemaOutOfDate as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = None) -> None:
    """Create the schema or migrate it to the newest version.

    Runs as SEVA_MIGRATE_DATABASE_URL (the tables' owner) when it is set; if SEVA_DATABASE_URL
    names another PostgreSQL user, that role is then granted what the application needs and
    no more (created if missing): it cannot truncate or alter the audit trail."""
    from sevadesk.store.db import application_role, make_engine, upgrade

    settings = _settings(database)
    migrate_url = settings.migrate_database_url or settings.database_url
    engine = make_engine(migrate_url)
    ran = upgrade(engine)
    out.print("schema migrated to the newest version" if ran else "schema already up to date")
    role = application_role(migrate_url, settings.database_url)
    if role is not None:
        _grant(engine, *role)


def _grant(engine: Engine, role: str, password: str | None = None) -> None:
    from sevadesk.store.db import grant
    from sevadesk.store.roles import RoleError

    try:
        grant(engine, role, password)
    except RoleError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    out.print(f"granted {role} the application's rights (rows only; the audit trail append-only)")


@db_app.command("grant")
def db_grant(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the application connects as.")],
    database: DatabaseOpt = None,
) -> None:
    """Grant ROLE the application's rights on the schema, as SEVA_MIGRATE_DATABASE_URL (or
    the database URL); `seva db upgrade` does this itself for SEVA_DATABASE_URL's user."""
    from sevadesk.store.db import make_engine

    settings = _settings(database)
    engine = make_engine(settings.migrate_database_url or settings.database_url)
    if engine.dialect.name != "postgresql":
        err.print("[red]error:[/] roles are PostgreSQL's; SQLite guards the audit trail itself")
        raise typer.Exit(2)
    _grant(engine, role)


def _read_org_file(path: Path) -> OrgSpec:
    """The organisation file at `path`, or exit 2 with each of its problems."""
    from sevadesk.routing.orgfile import OrgFileError, load_org_file

    try:
        return load_org_file(path)
    except OrgFileError as exc:
        err.print(f"[red]error:[/] {exc.source} is not a valid organisation file:")
        for problem in exc.problems:
            err.print(f"  {problem}")
        raise typer.Exit(2) from None


@org_app.command("load")
def org_load(path: Path, database: DatabaseOpt = None) -> None:
    """Load or update the organisation from a YAML file."""
    from sevadesk.store.org_repo import apply_org

    spec = _read_org_file(path)
    from datetime import UTC, datetime

    from sevadesk.store.org_repo import record_config_change

    engine = _engine(_settings(database))
    with engine.begin() as conn:
        summary = apply_org(conn, spec)
        record_config_change(conn, "cli", path.read_text(encoding="utf-8"), datetime.now(UTC))
    out.print(
        f"loaded {summary.units} units, {summary.handles} handles, {summary.hashtags} hashtags, "
        f"{summary.jurisdictions} jurisdiction entries, {summary.sla_policies} SLA policies, "
        f"{summary.users} users, {summary.templates} templates"
    )


def _batches(path: Path, size: int) -> Iterator[tuple[list[int], list[str]]]:
    numbers: list[int] = []
    lines: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            numbers.append(number)
            lines.append(line)
            if len(lines) >= size:
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines


def _report_line(path: Path, numbers: list[int], rejection: Rejection, what: str) -> None:
    from rich.markup import escape

    line_no = numbers[rejection.position] if rejection.position is not None else "?"
    err.print(
        f"[yellow]{escape(str(path))}:{line_no}:[/] {what}: {escape(rejection.reason)}",
        highlight=False,
    )


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="JSONL files of X API v2 filtered-stream events.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Events per transaction.")] = 1000,
    database: DatabaseOpt = None,
) -> None:
    """Ingest X v2 stream payloads: journal, triage, route and open or thread tickets."""
    from sevadesk.pipeline.batch import BatchSummary
    from sevadesk.pipeline.runner import Pipeline
    from sevadesk.routing.router import NoDefaultUnit

    for path in paths:
        if not path.is_file():
            err.print(f"[red]error:[/] {path}: no such file")
            raise typer.Exit(2)
    settings = _settings(database)
    pipeline = Pipeline(_engine(settings), None, settings)
    settle_heap()
    total = BatchSummary()
    sizes = sum(p.stat().st_size for p in paths)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("ingesting", total=sizes)
        for path in paths:
            # The pipeline reads one batch ahead; these queues pair each summary with its lines.
            numbers: deque[list[int]] = deque()
            sizes_read: deque[int] = deque()

            def lines_of(
                path: Path = path,
                numbers: deque[list[int]] = numbers,
                sizes_read: deque[int] = sizes_read,
            ) -> Iterator[list[str]]:
                for batch_numbers, lines in _batches(path, batch_size):
                    numbers.append(batch_numbers)
                    sizes_read.append(sum(len(x) + 1 for x in lines))
                    yield lines

            skipped = 0
            try:
                for summary in pipeline.ingest_many("x", f"file:{path.name}", lines_of()):
                    batch_numbers = numbers.popleft()
                    for rejection in summary.rejections:
                        _report_line(path, batch_numbers, rejection, "skipped")
                    for failure in summary.failures:
                        _report_line(path, batch_numbers, failure, "set aside")
                    skipped += summary.rejected + summary.failed
                    total.add(summary)
                    progress.advance(task, sizes_read.popleft())
            except NoDefaultUnit as exc:
                err.print(f"[red]error:[/] {exc}")
                raise typer.Exit(2) from None
            if skipped:
                err.print(
                    f"[yellow]{path}:[/] {skipped:,} lines not stored as posts (reasons above; "
                    "set-aside ones: `seva journal failed`)",
                    highlight=False,
                )
    if as_json:
        sys.stdout.write(orjson.dumps(total.as_dict()).decode() + "\n")
        return
    table = Table(title="ingest summary", show_header=False)
    for key, value in total.as_dict().items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    out.print(table)


@user_app.command("token")
def user_token(
    username: str,
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Days the token is valid (default SEVA_TOKEN_TTL_DAYS)."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the user's tokens (never the tokens themselves).")
    ] = False,
    revoke: Annotated[
        str | None, typer.Option(help="Revoke the token with this id (as --list shows), or all.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Issue an API token for a user (printed once; only its digest is stored), list a user's
    tokens, or revoke one. Issuing and revoking are recorded in the accounts' history."""
    from datetime import UTC, datetime, timedelta

    from sevadesk.store.users_repo import (
        UnknownToken,
        UnknownUser,
        issue_token,
        list_tokens,
        revoke_all_tokens,
        revoke_token,
    )

    settings = _settings(database)
    engine = _engine(settings)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            if list_:
                _print_tokens(list_tokens(conn, username), now)
                return
            if revoke == "all":
                out.print(f"revoked {revoke_all_tokens(conn, username, now, 'cli')} token(s)")
                return
            if revoke is not None:
                revoke_token(conn, revoke.lower(), now, "cli", username)
                out.print(f"revoked token {revoke}")
                return
            ttl = timedelta(days=days or settings.token_ttl_days)
            token = issue_token(conn, username, label, ttl, now, "cli")
    except (UnknownUser, UnknownToken) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    err.print(f"valid until {now + ttl:%Y-%m-%d %H:%M} UTC")
    out.print(token)


def _print_tokens(tokens: list[dict[str, object]], now: object) -> None:
    table = Table(title="API tokens")
    for column in ("id", "label", "created", "expires", "state"):
        table.add_column(column)
    for tok in tokens:
        state = (
            "revoked" if tok["revoked_at"] else ("expired" if tok["expires_at"] <= now else "live")  # type: ignore[operator]
        )
        table.add_row(
            str(tok["id"]),
            str(tok["label"]),
            f"{tok['created_at']:%Y-%m-%d %H:%M}",
            f"{tok['expires_at']:%Y-%m-%d %H:%M}",
            state,
        )
    out.print(table)


@user_app.command("unlock")
def user_unlock(
    username: Annotated[str, typer.Argument(help="The account, or address:IP for an address.")],
    database: DatabaseOpt = None,
) -> None:
    """Lift a sign-in lock (after too many failed sign-ins) and forget its failures."""
    from datetime import UTC, datetime

    from sevadesk.store.sign_in_repo import ACCOUNT, ADDRESS, unlock

    scope, key = (ADDRESS, username[8:]) if username.startswith("address:") else (ACCOUNT, username)
    with _engine(_settings(database)).begin() as conn:
        lifted = unlock(conn, scope, key, "cli", datetime.now(UTC))
    out.print(f"unlocked {username}" if lifted else f"{username} was not locked")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Run the web server: API under /api/v1, /healthz, /metrics, live ticket page at /."""
    import uvicorn

    from sevadesk.web.app import create_app

    settings = _settings(database)
    application = create_app(settings, _engine(settings))
    settle_heap()
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
        # Only these proxies' X-Forwarded-For/-Proto count (sign-in throttling, HSTS).
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def connect(
    channel: Annotated[str, typer.Argument(help="x or whatsapp")],
    database: DatabaseOpt = None,
) -> None:
    """Check a channel's credentials and configuration against its configured base URL."""
    from rich.table import Table

    from sevadesk.channels.connect import check_whatsapp, check_x
    from sevadesk.domain.clock import SystemClock

    settings = _settings(database)
    engine = _engine(settings)
    if channel == "x":
        checks = check_x(settings, engine, SystemClock())
        base = settings.x_api_base_url
    elif channel == "whatsapp":
        checks = check_whatsapp(settings, engine)
        base = settings.whatsapp_base_url
    else:
        err.print(f"[red]error:[/] unknown channel {channel!r}: use x or whatsapp")
        raise typer.Exit(2)
    table = Table(title=f"{channel} at {base}")
    for column in ("check", "", "detail"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[red]missing[/]", check.detail)
    out.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(2)


journal_app = typer.Typer(
    help="The journal: entries the database refused, set aside; retry them after a fix.",
    no_args_is_help=True,
)
app.add_typer(journal_app, name="journal")


@journal_app.command("failed")
def journal_failed(
    limit: Annotated[int, typer.Option(min=1, help="How many to list.")] = 100,
    database: DatabaseOpt = None,
) -> None:
    """List the entries set aside (status failed), newest first, with the database's error."""
    from sevadesk.pipeline import journal

    engine = _engine(_settings(database))
    with engine.connect() as conn:
        rows, total = journal.failed(conn, limit), journal.failed_count(conn)
    for row in rows:  # one line each, tab-separated, never wrapped (for grep and cut)
        when = f"{row['failed_at']:%Y-%m-%d %H:%M}" if row["failed_at"] else "-"
        sys.stdout.write(
            f"{row['id']}\t{row['channel']}\t{row['source']}\t{when}\t{row['error']}\n"
        )
    sys.stdout.write(f"{total} entries set aside\n")


@journal_app.command("retry")
def journal_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Journal ids, as `seva journal failed` lists.")
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Retry every entry set aside.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Put set-aside entries back to pending (audited); the drain processes them next."""
    from sevadesk.domain.clock import SystemClock
    from sevadesk.pipeline import journal

    if bool(ids) == all_failed:
        err.print("[red]error:[/] give journal ids or --all-failed (not both)")
        raise typer.Exit(2)
    engine = _engine(_settings(database))
    try:
        with engine.begin() as conn:
            found = journal.retry_audited(
                conn, None if all_failed else ids, "cli", SystemClock().now()
            )
    except journal.NotSetAside as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    out.print(
        f"{len(found)} entries back to pending; `seva worker drain` (or the server) "
        "processes them next",
        highlight=False,
    )


@app.command()
def worker(
    loops: Annotated[
        str,
        typer.Argument(help="Comma-separated: drain, outbox, sla, x (as SEVA_X_INGEST says)."),
    ] = "drain,outbox,sla,x",
    database: DatabaseOpt = None,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            "-p",
            min=1,
            help="Worker processes: each drains the journal (they share it through claims);"
            " the other loops run in the first. Dead ones are restarted.",
        ),
    ] = 1,
) -> None:
    """Run background loops without the web server (scale-out: one process per loop, or
    several drain processes with --processes)."""
    import signal
    import threading

    from sevadesk.domain.clock import SystemClock
    from sevadesk.service import Workers

    chosen = {name.strip() for name in loops.split(",") if name.strip()}
    unknown = chosen - {"drain", "outbox", "sla", "x"}
    if unknown:
        err.print(f"[red]error:[/] unknown loop(s): {', '.join(sorted(unknown))}")
        raise typer.Exit(2)
    settings = _settings(database)
    if processes > 1:
        from sevadesk.workers import supervise

        if not settings.database_url.startswith("postgresql"):
            # Without claims every drain process would take the same batch, then wait for
            # the write lock to find it done.
            err.print("[red]error:[/] --processes needs PostgreSQL (SQLite has one writer)")
            raise typer.Exit(2)

        order = [name for name in ("drain", "outbox", "sla", "x") if name in chosen]
        out.print(f"running {processes} worker processes: {', '.join(order)} (Ctrl-C stops)")
        raise typer.Exit(supervise(order, processes, database))
    off: dict[str, object] = {}
    if "drain" not in chosen:
        off["drain_interval_seconds"] = 0
    if "outbox" not in chosen:
        off["outbox_interval_seconds"] = 0
    if "sla" not in chosen:
        off["sla_interval_seconds"] = 0
    if "x" not in chosen:
        off["x_ingest"] = "off"
    # 0 turns a loop off inside `seva serve` (docs/operations.md: "0: off; run `seva worker
    # drain`"); a worker that was asked for the loop runs it, at the default interval.
    for name, interval in (
        ("drain", "drain_interval_seconds"),
        ("outbox", "outbox_interval_seconds"),
        ("sla", "sla_interval_seconds"),
    ):
        if name in chosen and getattr(settings, interval) <= 0:
            off[interval] = type(settings).model_fields[interval].default
    settings = settings.model_copy(update=off)
    workers = Workers(_engine(settings), settings, SystemClock()).start()
    settle_heap()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    out.print(f"running: {', '.join(sorted(chosen))} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    workers.stop()


bot_app = typer.Typer(help="The WhatsApp citizen bot.", no_args_is_help=True)
app.add_typer(bot_app, name="bot")


@bot_app.command("check")
def bot_check(
    flow: Annotated[
        Path | None, typer.Argument(help="A flow file (default: the shipped one).")
    ] = None,
    catalogues: Annotated[
        Path | None, typer.Option(help="A folder of <lang>.yaml catalogues.")
    ] = None,
) -> None:
    """Load a flow and its catalogues; errors name the file and the key."""
    from sevadesk.bot.catalogue import CatalogueError, Catalogues
    from sevadesk.bot.flows import DEFAULT_FLOW, Flow, FlowError

    try:
        cats = Catalogues.load(catalogues) if catalogues else Catalogues.load()
        loaded = Flow.load(cats, flow or DEFAULT_FLOW)
    except (FlowError, CatalogueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    out.print(f"ok: {len(loaded.steps)} steps, languages {', '.join(cats.languages)}")


@bot_app.command("chat")
def bot_chat(
    wa_id: Annotated[str, typer.Option(help="The WhatsApp number to play.")] = "919000000001",
    database: DatabaseOpt = None,
) -> None:
    """Talk to the bot in the terminal, against the local database (tickets are real).
    Type a choice's number or text; /loc LAT LON shares a location; /photo sends a photo;
    /quit ends."""
    import uuid

    from sevadesk.bot import sessions
    from sevadesk.bot.engine import Inbound
    from sevadesk.bot.runner import BotRunner
    from sevadesk.domain.clock import SystemClock

    settings = _settings(database)
    engine = _engine(settings)
    runner = BotRunner(engine, settings, SystemClock())
    out.print("[dim]the bot answers as on WhatsApp; /quit ends[/]")
    first = "hi"
    while True:
        line = first if first else input("you> ").strip()
        first = ""
        if line in ("/quit", "/exit"):
            return
        inbound = Inbound(text=line, wamid=f"chat-{uuid.uuid4().hex[:12]}", name="Terminal")
        if line.startswith("/loc"):
            parts = line.split()
            try:
                inbound = Inbound(location=(float(parts[1]), float(parts[2])), wamid=inbound.wamid)
            except (IndexError, ValueError):
                err.print("usage: /loc LATITUDE LONGITUDE")
                continue
        elif line == "/photo":
            inbound = Inbound(
                media=(("image", "terminal-photo", "image/jpeg"),), wamid=inbound.wamid
            )
        now = SystemClock().now()
        with engine.begin() as conn:
            session = sessions.load(conn, wa_id)
            expected = session.version if session else None
            new, outs = runner.bot.turn(wa_id, session, inbound, now)
            sessions.save(conn, new, expected, now)
        for message in outs:
            out.print(f"[bold cyan]bot>[/] {message.text}")
            for i, (_, title) in enumerate(message.choices, 1):
                out.print(f"     {i}. {title}")


open311_app = typer.Typer(help="Open311 GeoReport v2 clients.", no_args_is_help=True)
app.add_typer(open311_app, name="open311")


@open311_app.command("key")
def open311_key(name: str, database: DatabaseOpt = None) -> None:
    """Issue an api_key for a civic app (printed once; only its digest is stored)."""
    from datetime import UTC, datetime

    from sevadesk.store.clients_repo import issue_open311_key

    engine = _engine(_settings(database))
    with engine.begin() as conn:
        out.print(issue_open311_key(conn, name, datetime.now(UTC)))


@app.command()
def demo(
    database: Annotated[
        str, typer.Option("--database", "-d", help="Demo database URL.")
    ] = "sqlite:///seva-demo.db",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    rate: Annotated[float, typer.Option(help="Posts per second to replay.")] = 3.0,
    fresh: Annotated[bool, typer.Option(help="Start from an empty demo database.")] = True,
) -> None:
    """Create a demo organisation, start the server and replay realistic traffic."""
    from sevadesk.demo.run import run_demo

    run_demo(database, port=port, rate=rate, fresh=fresh, console=out)


@app.command()
def triage(
    path: Annotated[
        Path | None, typer.Argument(help='JSONL of {"id", "text"}; standard input when absent.')
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: one per core).")] = None,
    org: Annotated[
        Path | None,
        typer.Option(
            help="An organisation file whose triage section (categories, rules, complaint "
            "hashtags) applies; the shipped defaults when absent."
        ),
    ] = None,
    addressed: Annotated[
        bool,
        typer.Option(
            "--addressed",
            help="The texts were sent to the agency itself (direct messages, a form, posts "
            "whose handles were removed): read each as addressed to it unless its line says "
            '"addressed": false.',
        ),
    ] = False,
) -> None:
    """Triage JSONL lines: one JSON result per input line, in input order."""
    from sevadesk.triage.jsonl import triage_stream

    config = _read_org_file(org).triage_config() if org else None
    source = path.open("rb") if path else sys.stdin.buffer
    try:
        for chunk in triage_stream(source, workers=workers, config=config, addressed=addressed):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    finally:
        if path:
            source.close()


@app.command()
def train(
    data_dir: Annotated[
        Path | None, typer.Option(help="Training data (default: SEVA_DATA_DIR, ../shared/data).")
    ] = None,
    corrections: Annotated[
        bool, typer.Option(help="Also learn from agents' corrections in the database.")
    ] = True,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the model (default: the package's models/)."),
    ] = None,
    folds: Annotated[
        int,
        typer.Option(
            help="Also cross-validate on the railway train split with this many folds "
            "(figures per language in the model card); 0 skips it."
        ),
    ] = 4,
    database: DatabaseOpt = None,
) -> None:
    """Train the triage model, evaluate it on held-out data and make it the current model."""
    from sevadesk.triage.model_card import write_model_card
    from sevadesk.triage.training import MODELS
    from sevadesk.triage.training import train as run_training

    settings = _settings(database)
    data = data_dir or settings.data_dir
    if not data.is_dir():
        err.print(
            f"[red]error:[/] training data not found at {data} (set SEVA_DATA_DIR or --data-dir)"
        )
        raise typer.Exit(2)
    engine = _engine(settings) if corrections else None
    run = run_training(data, engine, out_dir or MODELS, folds=folds)
    card = write_model_card(out_dir or MODELS, run.metrics)
    out.print(
        f"trained {run.model.version} in {run.metrics['seconds']}s on {sum(run.metrics['train_examples'].values()):,} examples"
    )
    for name, section in run.metrics["metrics"].items():
        if "actionable" in section:
            a = section["actionable"]["per_class"]["actionable"]
            out.print(
                f"  {name}: actionable P {a['precision']:.3f} R {a['recall']:.3f} F1 {a['f1']:.3f}"
            )
        if "sos" in section:
            sos = section["sos"]["per_class"]["sos"]
            out.print(f"  {name}: SOS P {sos['precision']:.3f} R {sos['recall']:.3f}")
    out.print(f"model: {run.path}\nmodel card: {card}")


@app.command("eval")
def evaluate(
    path: Annotated[
        Path,
        typer.Argument(
            help="Labelled CSV or JSONL: text plus actionable, kind and/or urgency (and, "
            "optionally, addressed)."
        ),
    ],
    addressed: Annotated[
        bool,
        typer.Option(
            "--addressed",
            help="The texts were sent to the agency itself (as in seva triage --addressed), "
            "unless a row's addressed column says otherwise.",
        ),
    ] = False,
) -> None:
    """Precision, recall and F1 per class, macro-F1 and confusion matrices on a labelled file."""
    from sevadesk.triage.default import default_triager
    from sevadesk.triage.labelled import LabelledFileError, evaluate_file

    try:
        text = evaluate_file(path, default_triager(), addressed=addressed)
    except LabelledFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    # No wrapping: the threshold table is wider than a terminal's 80 columns.
    out.print(text, markup=False, highlight=False, soft_wrap=True)


@bench_app.command("triage")
def bench_triage(
    messages: Annotated[int, typer.Option(help="Messages to triage.")] = 200_000,
    workers: Annotated[int | None, typer.Option(help="Processes (default: one per core).")] = None,
    command: Annotated[
        bool,
        typer.Option(help="Also time the whole `seva triage FILE` command, start-up included."),
    ] = True,
) -> None:
    """Batch throughput of `seva triage` on this machine."""
    from sevadesk.bench.triage import run_triage_bench

    result = run_triage_bench(messages=messages, workers=workers, console=out, command=command)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


@bench_app.command("bot")
def bench_bot(
    sessions: Annotated[int, typer.Option(help="Sessions stored before measuring.")] = 10_000,
    turns: Annotated[int, typer.Option(help="Webhook deliveries to time.")] = 2_000,
    database: Annotated[
        str | None, typer.Option("--database", "-d", help="Defaults to a fresh SQLite file.")
    ] = None,
) -> None:
    """Bot turn latency: signed webhook in → replies queued, with many sessions stored."""
    from sevadesk.bench.bot import run_bot_bench

    result = run_bot_bench(sessions=sessions, turns=turns, database=database, console=out)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


@bench_app.command("web")
def bench_web(
    tickets: Annotated[int, typer.Option(help="Tickets to seed.")] = 1_000_000,
    requests: Annotated[int, typer.Option(help="Requests timed per page and user.")] = 100,
    database: Annotated[
        str | None, typer.Option("--database", "-d", help="Defaults to a fresh SQLite file.")
    ] = None,
    streams: Annotated[
        int, typer.Option(help="Live inbox streams held open while counting queries (0: skip).")
    ] = 200,
) -> None:
    """Inbox, ticket and reports latency with many tickets stored, and the database
    statements per second while `streams` live inboxes are open."""
    from sevadesk.bench.web import run_web_bench

    result = run_web_bench(
        tickets=tickets, requests=requests, database=database, console=out, streams=streams
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


def _router_and_triager(settings: Settings):  # type: ignore[no-untyped-def]
    from sevadesk.routing.router import Router
    from sevadesk.store.org_repo import triage_config
    from sevadesk.triage.default import default_triager

    with _engine(settings).connect() as conn:
        router = Router.load(conn)
        config = triage_config(conn)
    if router.default_unit_id is None:
        err.print("[red]error:[/] no organisation loaded: run `seva org load FILE.yaml` first")
        raise typer.Exit(2)
    return router, default_triager(config)


@route_app.command("explain")
def route_explain(text: str, database: DatabaseOpt = None) -> None:
    """Show the triage result, the places found and the rule that would route TEXT."""
    from sevadesk.routing.explain import explain

    router, triager = _router_and_triager(_settings(database))
    result = explain(router, triager, text)
    t = result.triage
    out.print(
        f"triage: {t.kind} (actionable {t.actionable}, score {t.score:.2f}), category {t.category}, "
        f"urgency {t.urgency}, language {t.language}, model {t.model_version}",
        markup=False,
    )
    out.print(
        "entities: " + (", ".join(f"{e.kind} {e.value}" for e in t.entities) or "none"),
        markup=False,
    )
    out.print(
        "places: " + ("; ".join(p.evidence for p in result.location.places) or "none"), markup=False
    )
    d = result.decision
    out.print(f"route: {d.unit_code} by {d.reason}: {d.detail}", markup=False)


@route_app.command("eval")
def route_eval(
    path: Annotated[Path, typer.Argument(help="CSV with columns text, expected_unit.")],
    database: DatabaseOpt = None,
) -> None:
    """Routing accuracy on a labelled file, against the loaded organisation."""
    from sevadesk.routing.explain import RoutingFileError, evaluate_routing

    router, triager = _router_and_triager(_settings(database))
    try:
        accuracy, count, misses = evaluate_routing(router, triager, path)
    except RoutingFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    for miss in misses:
        out.print(miss, markup=False, highlight=False)
    out.print(f"routing accuracy {accuracy:.3f} ({count - len(misses)}/{count})")


sla_app = typer.Typer(help="SLA deadlines and escalation.", no_args_is_help=True)
app.add_typer(sla_app, name="sla")


@sla_app.command("run")
def sla_run(database: DatabaseOpt = None) -> None:
    """Escalate every ticket whose SLA deadline has passed (the server also does this each minute)."""
    from datetime import UTC, datetime

    from sevadesk.tickets.actions import sla_pass

    engine = _engine(_settings(database))
    with engine.begin() as conn:
        escalations, deemed = sla_pass(conn, datetime.now(UTC))
    for e in escalations:
        out.print(
            f"{e.ref}: {e.deadline} deadline missed → level {e.level} at {e.unit}, priority {e.priority}, "
            f"{e.notified} supervisor(s) notified",
            markup=False,
        )
    out.print(
        f"{len(escalations)} ticket(s) escalated; {deemed} unanswered transfer(s) deemed accepted"
    )


@bench_app.command("ingest")
def bench_ingest(
    triage: Annotated[
        str,
        typer.Option(
            help="baseline (keyword triage, the foundation's figure) or model (the shipped model)."
        ),
    ] = "baseline",
    posts: Annotated[int, typer.Option(help="Posts to generate and ingest.")] = 50_000,
    batch_size: Annotated[int, typer.Option(help="Events per transaction.")] = 2000,
    database: Annotated[
        str | None, typer.Option("--database", "-d", help="Defaults to a fresh SQLite file.")
    ] = None,
    drain_workers: Annotated[
        int,
        typer.Option(
            help="Journal the posts first, then time this many `seva worker drain` processes"
            " sharing the journal (the shipped model triages). 0: one process ingests.",
            min=0,
        ),
    ] = 0,
) -> None:
    """End-to-end posts/s from journal to tickets (keyword baseline triage unless --triage model)."""
    from sevadesk.bench.ingest import run_ingest_bench
    from sevadesk.store.db import SchemaOutOfDate

    if triage not in ("baseline", "model"):
        err.print("[red]error:[/] --triage is baseline or model")
        raise typer.Exit(2)
    try:
        result = run_ingest_bench(
            posts=posts,
            batch_size=batch_size,
            database_url=database,
            console=out,
            triage=triage,
            drain_workers=drain_workers,
        )
    except SchemaOutOfDate as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    app()
