"""Flow files and catalogues are checked at load; the engine survives any conversation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sevadesk.bot.catalogue import CATALOGUES, CatalogueError, Catalogues
from sevadesk.bot.engine import Bot, Inbound, Session
from sevadesk.bot.flows import DEFAULT_FLOW, Flow, FlowError


def test_the_shipped_flow_and_catalogues_load_in_four_languages() -> None:
    catalogues = Catalogues.load()
    flow = Flow.load(catalogues)
    assert set(catalogues.languages) >= {"en", "hi", "mr", "ta"}
    assert {"menu", "lodge_confirm", "track", "help_where", "faq", "handoff", "feedback"} <= set(
        flow.steps
    )
    reference = set(catalogues.texts["en"])
    for lang, texts in catalogues.texts.items():
        assert set(texts) == reference, f"{lang}.yaml differs from en.yaml"


def _flow_with(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "flow.yaml"
    path.write_text(DEFAULT_FLOW.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return path


def test_an_unknown_next_step_is_rejected_naming_the_file_and_key(tmp_path: Path) -> None:
    path = _flow_with(tmp_path, "next: lodge_agency}", "next: lodge_agencyy}")
    with pytest.raises(FlowError) as error:
        Flow.load(Catalogues.load(), path)
    assert str(path) in str(error.value)
    assert "steps.menu.choices[0].next: unknown step 'lodge_agencyy'" in str(error.value)


def test_a_text_missing_from_the_catalogues_is_rejected(tmp_path: Path) -> None:
    path = _flow_with(tmp_path, "say: ask_description", "say: ask_descriptionn")
    with pytest.raises(
        FlowError,
        match=r"steps.lodge_description.say: catalogue key 'ask_descriptionn' missing in en.yaml",
    ):
        Flow.load(Catalogues.load(), path)


def test_an_unknown_action_is_rejected(tmp_path: Path) -> None:
    path = _flow_with(tmp_path, "action: find_help", "action: find_hlep")
    with pytest.raises(FlowError, match=r"steps.help_where.action: unknown action 'find_hlep'"):
        Flow.load(Catalogues.load(), path)


def test_a_catalogue_missing_a_translation_is_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "catalogues"
    shutil.copytree(CATALOGUES, folder)
    hindi = folder / "hi.yaml"
    hindi.write_text(
        "\n".join(
            line
            for line in hindi.read_text(encoding="utf-8").splitlines()
            if not line.startswith("main_menu:")
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match=r"hi.yaml: main_menu: missing"):
        Catalogues.load(folder)
    result = subprocess.run(
        [sys.executable, "-m", "sevadesk", "bot", "check", "--catalogues", str(folder)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "main_menu: missing" in result.stderr


class FakeServices:
    """The world, without a database: enough for the engine to run every flow."""

    def __init__(self) -> None:
        self.filed: list[str] = []

    def agencies(self, lang: str) -> list[tuple[str, str]]:
        return [("RLY", "Railways"), ("UPP", "Police")]

    def categories(self) -> list[str]:
        return [
            "water",
            "theft",
            "delay",
            "medical",
            "security",
            "catering",
            "crowding",
            "cleanliness",
            "electrical",
            "refund_ticketing",
            "traffic",
            "billing",
        ]

    def districts(self) -> list[str]:
        return [f"District {i}" for i in range(23)]

    def faq(self, lang: str) -> list[tuple[str, str, str]]:
        return [("a", "Question A", "Answer A")]

    def district_named(self, text: str) -> str | None:
        return "Lucknow" if "lucknow" in text.lower() else None

    def detect_language(self, text: str) -> str | None:
        return "hi" if any("\u0900" <= ch <= "\u097f" for ch in text) else "en"

    def lodge(self, session: Session, inbound: Inbound) -> str | None:
        self.filed.append(session.wa_id)
        return f"RLY-{len(self.filed):06d}"

    def my_tickets(self, wa_id: str) -> list[tuple[str, str]]:
        return [("RLY-000001", "new")]

    def track(self, ref: str, wa_id: str) -> dict[str, str] | None:
        return (
            {"status": "in_progress", "office": "Kota", "update": ""}
            if ref == "RLY-000001"
            else None
        )

    def find_help(self, place: tuple[str, Any]) -> dict[str, Any] | None:
        return {
            "pin": "226001",
            "place": "AP Sabha",
            "district": "Lucknow",
            "offices": ["• Lucknow police: 112"],
        }

    def handoff(self, session: Session, inbound: Inbound) -> str:
        return "GEN-000009"

    def forward(self, session: Session, inbound: Inbound) -> None:
        return None

    def ticket_status(self, ref: str) -> str | None:
        return "in_progress"

    def appeal(self, ref: str) -> bool:
        return True

    def confirm_fixed(self, ref: str) -> None:
        return None


BOT = Bot(Flow.load(Catalogues.load()), Catalogues.load(), FakeServices())
ids = st.sampled_from(
    [
        "lodge",
        "track",
        "help",
        "faq",
        "person",
        "language",
        "RLY",
        "UPP",
        "water",
        "__more__",
        "skip",
        "district",
        "submit",
        "change",
        "cancel",
        "mine",
        "menu",
        "hi",
        "en",
        "ta",
        "mr",
        "fixed",
        "not_fixed",
        "a",
        "District 3",
        "nonsense",
    ]
)
events = st.one_of(
    st.builds(Inbound, choice=ids, wamid=st.just("w")),
    st.builds(
        Inbound,
        text=st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                [
                    "menu",
                    "मेनू",
                    "226001",
                    "RLY-1",
                    "lucknow",
                    "1",
                    "2",
                    "9",
                    "10",
                    "talk to a person",
                    "",
                ]
            ),
        ),
        wamid=st.just("w"),
    ),
    st.builds(
        Inbound, location=st.tuples(st.floats(-90, 90), st.floats(-180, 180)), wamid=st.just("w")
    ),
    st.builds(Inbound, media=st.just((("image", "m1", "image/jpeg"),)), wamid=st.just("w")),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(events, st.integers(0, 40)), min_size=1, max_size=25))
def test_any_conversation_keeps_a_valid_state_and_never_goes_silent(
    turns: list[tuple[Inbound, int]],
) -> None:
    session: Session | None = None
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    for inbound, minutes in turns:
        now += timedelta(minutes=minutes)
        session, outs = BOT.turn("919000000000", session, inbound, now)
        step = BOT.flow.steps[session.step]
        assert step.human or outs, "the bot must always answer unless an officer has the chat"
        for out in outs:
            assert out.text or out.choices
            assert len(out.choices) <= 10
        assert session.lang in (None, "en", "hi", "mr", "ta")
