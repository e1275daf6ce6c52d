"""Prepared batches cross into the ingest worker process and back by pickle; every field
must survive (Entity and RouteDecision pickle as constructor calls)."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from sevadesk.domain.messages import Entity, RouteDecision

OPTIONAL_TEXT = st.none() | st.text(max_size=12)


@given(st.builds(Entity, st.text(max_size=8), st.text(max_size=12), st.integers(), st.integers()))
def test_an_entity_survives_pickling(entity: Entity) -> None:
    assert pickle.loads(pickle.dumps(entity)) == entity


@given(
    st.builds(
        RouteDecision,
        unit_code=st.text(max_size=8),
        reason=st.text(max_size=8),
        detail=st.text(max_size=20),
        priority=OPTIONAL_TEXT,
        labels=st.tuples(st.text(max_size=5)),
        acknowledge=OPTIONAL_TEXT,
        ignore=st.booleans(),
        rules=st.tuples(st.text(max_size=5), st.text(max_size=5)),
        station=OPTIONAL_TEXT,
    )
)
def test_a_route_decision_survives_pickling(decision: RouteDecision) -> None:
    assert pickle.loads(pickle.dumps(decision)) == decision
