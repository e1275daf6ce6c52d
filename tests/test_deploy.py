"""The deployment files an operator starts from: compose.yaml is valid Compose (checked
against the specification's schema, offline) and describes the documented topology; the
Procfile's commands are ones `seva` has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft201909Validator
from typer.testing import CliRunner

from sevadesk.cli import app

ROOT = Path(__file__).parent.parent
SCHEMA = Path(__file__).parent / "fixtures" / "compose" / "compose_spec.json"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_file_is_valid_compose() -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(Draft201909Validator(schema).iter_errors(_compose()), key=str)
    assert [e.message for e in errors] == []


def test_compose_runs_two_web_replicas_behind_a_proxy_two_workers_and_migrates_once() -> None:
    services = _compose()["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"][:2] == ["seva", "worker"]
    assert "--processes" in services["worker"]["command"]
    # Migrations once, as the owner, before anything that uses the database starts.
    assert services["migrate"]["command"] == ["seva", "db", "upgrade"]
    assert "seva_owner" in services["migrate"]["environment"]["SEVA_MIGRATE_DATABASE_URL"]
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert "seva_app" in env["SEVA_DATABASE_URL"]
        assert "SEVA_MIGRATE_DATABASE_URL" not in env
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    # The web replicas serve only; nothing but the proxy is published.
    assert services["web"]["environment"]["SEVA_SLA_INTERVAL_SECONDS"] == "0"
    assert [s for s in services if services[s].get("ports")] == ["proxy"]
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "name web" in caddy and "health_uri /healthz" in caddy
    # The X stream has one connection per app: its reader is not replicated.
    assert "deploy" not in services["x-reader"]


def test_procfile_commands_exist() -> None:
    kinds = dict(
        line.split(":", 1)
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(kinds) == {"release", "web", "worker"}
    runner = CliRunner()
    for words in (["db", "upgrade"], ["serve"], ["worker"]):
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, result.output
    assert "--processes" in runner.invoke(app, ["worker", "--help"]).output


def test_several_worker_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["worker", "drain", "--processes", "2", "-d", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 2
    assert "needs PostgreSQL" in result.output
