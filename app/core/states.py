"""Record states and the transitions DESIGN.md draws; the one source of truth."""

from __future__ import annotations

from enum import StrEnum

from app.core.errors import NotAllowed


class State(StrEnum):
    DRAFT = "DRAFT"
    COMPLETE = "COMPLETE"
    QUEUED = "QUEUED"
    DELIVERED = "DELIVERED"
    RESULT = "RESULT"
    RETURNED = "RETURNED"


class Action(StrEnum):
    COMPLETE = "complete"
    APPROVE = "approve"
    RETURN = "return"  # supervisor returns with a reason
    ACCEPTED = "accepted"  # server receipt: accepted or duplicate
    SERVER_INVALID = "server_invalid"  # server receipt: invalid -> back to author
    SERVER_RETURN = "server_return"  # centre returns a delivered record
    RESULT = "result"  # CSE result arrives
    EDIT = "edit"  # author reopens a returned record (new revision)


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.DRAFT, Action.COMPLETE): State.COMPLETE,
    (State.COMPLETE, Action.APPROVE): State.QUEUED,
    (State.COMPLETE, Action.RETURN): State.RETURNED,
    (State.QUEUED, Action.RETURN): State.RETURNED,
    (State.QUEUED, Action.ACCEPTED): State.DELIVERED,
    (State.QUEUED, Action.SERVER_INVALID): State.RETURNED,
    (State.DELIVERED, Action.SERVER_RETURN): State.RETURNED,
    (State.DELIVERED, Action.RESULT): State.RESULT,
    (State.RETURNED, Action.EDIT): State.DRAFT,
}

STATE_LABELS: dict[State, str] = {
    State.DRAFT: "Borrador",
    State.COMPLETE: "Completa",
    State.QUEUED: "En cola de envío",
    State.DELIVERED: "Entregada",
    State.RESULT: "Con resultado",
    State.RETURNED: "Observada",
}

# States whose answers may be changed by their author.
EDITABLE = frozenset({State.DRAFT})


def next_state(state: State | str, action: Action | str) -> State:
    """The state after `action`, or NotAllowed when the diagram has no such edge."""
    s, a = State(state), Action(action)
    try:
        return TRANSITIONS[(s, a)]
    except KeyError:
        raise NotAllowed(
            f"transition {a.value!r} not allowed from {s.value}",
            f"No se puede realizar esta acción con una ficha en estado «{STATE_LABELS[s]}».",
        ) from None


def allowed_actions(state: State | str) -> list[Action]:
    s = State(state)
    return [a for (st, a) in TRANSITIONS if st == s]
