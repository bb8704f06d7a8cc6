"""The one status machine: moves as data, consistent with its derived tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smsgate.core import errors
from smsgate.core.messages import (
    CANCELLABLE,
    FINAL,
    IN_FLIGHT,
    MOVES,
    RANK,
    SOURCES,
    STAMP,
    Message,
    NewMessage,
    State,
    check_move,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_sources_are_exactly_the_inverse_of_moves() -> None:
    for source in State:
        for target in State:
            assert (target in MOVES.get(source, ())) == (source in SOURCES[target])


def test_final_states_have_no_moves_and_every_live_state_can_end() -> None:
    assert FINAL == {
        State.DELIVERED,
        State.UNDELIVERED,
        State.FAILED,
        State.CANCELLED,
        State.EXPIRED,
    }
    for state in FINAL:
        assert not MOVES.get(state)
        for target in State:
            with pytest.raises(errors.IllegalMove):
                check_move(state, target)
    for state in MOVES:
        assert MOVES[state], state
        assert MOVES[state] & FINAL, f"{state} can never end"


def test_every_state_is_reachable_from_the_start() -> None:
    seen, todo = set(), [State.SCHEDULED, State.QUEUED]
    while todo:
        state = todo.pop()
        if state not in seen:
            seen.add(state)
            todo.extend(MOVES.get(state, ()))
    assert seen == set(State)


def test_forward_moves_go_up_in_rank_and_only_a_give_back_goes_down() -> None:
    for source, targets in MOVES.items():
        for target in targets:
            if target is State.QUEUED and source in IN_FLIGHT:
                continue
            assert RANK[target] > RANK[source], f"{source} -> {target}"


def test_cancel_only_before_a_device_has_it() -> None:
    assert CANCELLABLE == {State.SCHEDULED, State.QUEUED}
    assert all(State.CANCELLED in MOVES[s] for s in CANCELLABLE)
    # beyond those, only the device holding a message may drop it (a client cancel cannot)
    assert SOURCES[State.CANCELLED] - CANCELLABLE <= IN_FLIGHT


def test_every_state_has_a_time_stamp_column() -> None:
    assert set(STAMP) == set(State)
    assert set(RANK) == set(State)


def message(state: State) -> Message:
    return Message(
        id=1,
        account_id=1,
        to="+79201234567",
        to_original="+79201234567",
        country="RU",
        text="x",
        encoding="gsm7",
        segments=1,
        state=state,
        created_at=T0,
    )


def test_moved_to_stamps_the_time_and_refuses_illegal_moves() -> None:
    later = datetime(2026, 1, 1, 12, 5, tzinfo=UTC)
    moved = message(State.LEASED).moved_to(State.SENT, at=later)
    assert moved.state is State.SENT and moved.sent_at == later
    with pytest.raises(errors.IllegalMove, match="delivered to queued"):
        message(State.DELIVERED).moved_to(State.QUEUED, at=later)


def test_a_new_message_is_scheduled_only_when_its_time_is_ahead() -> None:
    base = dict(
        account_id=1,
        to="+79201234567",
        to_original="x",
        country="RU",
        text="x",
        encoding="gsm7",
        segments=1,
        created_at=T0,
    )
    assert NewMessage(**base).state is State.QUEUED
    assert NewMessage(**base, send_at=T0).state is State.QUEUED
    assert (
        NewMessage(**base, send_at=datetime(2026, 1, 1, 12, 1, tzinfo=UTC)).state is State.SCHEDULED
    )
