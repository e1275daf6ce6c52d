"""Load and check a flow file: every `next` names a step, every action and input is known,
every catalogue key exists in every language. Errors name the file and the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sevadesk.bot.catalogue import Catalogues

DEFAULT_FLOW = Path(__file__).with_name("flow.yaml")

ACTIONS = frozenset(
    {
        "set_language",
        "lodge",
        "cancel_lodge",
        "my_tickets",
        "track",
        "find_help",
        "faq_answer",
        "handoff",
        "fixed",
        "not_fixed",
    }
)
INPUTS = frozenset({"text", "description", "location", "reference"})
SOURCES = frozenset({"agencies", "categories", "districts", "faq"})


class FlowError(ValueError):
    """A flow file that cannot run; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str
    next: str | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    say: str | None = None
    button: str | None = None
    choices: tuple[Choice, ...] = ()
    choices_from: str | None = None
    expect: str | None = None
    store: str | None = None
    action: str | None = None
    next: str | None = None
    human: bool = False


@dataclass(frozen=True)
class Flow:
    start: str
    idle_minutes: float
    steps: dict[str, Step] = field(default_factory=dict)

    @classmethod
    def load(cls, catalogues: Catalogues, path: Path = DEFAULT_FLOW) -> Flow:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise FlowError(f"{path}: cannot read: {exc}") from exc
        return cls.parse(raw, catalogues, str(path))

    @classmethod
    def parse(cls, raw: Any, catalogues: Catalogues, where: str) -> Flow:
        def fail(key: str, message: str) -> FlowError:
            return FlowError(f"{where}: {key}: {message}")

        if not isinstance(raw, dict) or not isinstance(raw.get("steps"), dict):
            raise fail("steps", "a mapping of step id → step is required")
        steps: dict[str, Step] = {}
        allowed = set(Step.__dataclass_fields__) - {"id"}
        for sid, spec in raw["steps"].items():
            key = f"steps.{sid}"
            if not isinstance(spec, dict):
                raise fail(key, "a step is a mapping")
            unknown = set(spec) - allowed
            if unknown:
                raise fail(key, f"unknown field(s) {sorted(unknown)}")
            choices = []
            for i, c in enumerate(spec.get("choices") or []):
                if not isinstance(c, dict) or not c.get("id") or not c.get("label"):
                    raise fail(f"{key}.choices[{i}]", "a choice needs an id and a label")
                if not isinstance(c["id"], str) or not isinstance(c["label"], str):
                    # YAML reads a bare yes/no as a boolean: quote it.
                    raise fail(f"{key}.choices[{i}]", "id and label must be strings")
                extra = set(c) - {"id", "label", "next", "action"}
                if extra:
                    raise fail(f"{key}.choices[{i}]", f"unknown field(s) {sorted(extra)}")
                choices.append(Choice(str(c["id"]), c["label"], c.get("next"), c.get("action")))
            steps[str(sid)] = Step(
                id=str(sid),
                say=spec.get("say"),
                button=spec.get("button"),
                choices=tuple(choices),
                choices_from=spec.get("choices_from"),
                expect=spec.get("expect"),
                store=spec.get("store"),
                action=spec.get("action"),
                next=spec.get("next"),
                human=bool(spec.get("human", False)),
            )
        start = raw.get("start")
        if start not in steps:
            raise fail("start", f"unknown step {start!r}")
        flow = cls(str(start), float(raw.get("idle_minutes", 30)), steps)
        flow._check(catalogues, fail)
        return flow

    def _check(self, catalogues: Catalogues, fail: Any) -> None:
        for sid, step in self.steps.items():
            key = f"steps.{sid}"
            targets = [(f"{key}.next", step.next)] + [
                (f"{key}.choices[{i}].next", c.next) for i, c in enumerate(step.choices)
            ]
            for where, target in targets:
                if target is not None and target not in self.steps:
                    raise fail(where, f"unknown step {target!r}")
            actions = [(f"{key}.action", step.action)] + [
                (f"{key}.choices[{i}].action", c.action) for i, c in enumerate(step.choices)
            ]
            for where, action in actions:
                if action is not None and action not in ACTIONS:
                    raise fail(where, f"unknown action {action!r} (known: {sorted(ACTIONS)})")
            if step.expect is not None and step.expect not in INPUTS:
                raise fail(
                    f"{key}.expect", f"unknown input {step.expect!r} (known: {sorted(INPUTS)})"
                )
            if step.choices_from is not None and step.choices_from not in SOURCES:
                raise fail(f"{key}.choices_from", f"unknown source {step.choices_from!r}")
            texts = [(f"{key}.say", step.say), (f"{key}.button", step.button)] + [
                (f"{key}.choices[{i}].label", c.label) for i, c in enumerate(step.choices)
            ]
            for where, text in texts:
                if text is None:
                    continue
                missing = catalogues.missing(text)
                if missing:
                    raise fail(where, f"catalogue key {text!r} missing in {', '.join(missing)}")
            takes_input = step.choices or step.expect or step.choices_from or step.action
            only_static = bool(step.choices) and not (step.expect or step.choices_from)
            routed = step.next is not None or (only_static and all(c.next for c in step.choices))
            if not step.human and takes_input and not routed:
                raise fail(key, "a step that takes input needs a next step")
