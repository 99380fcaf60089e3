import pytest

from app.core.errors import NotAllowed
from app.core.roles import Perm, Role, can, require
from app.core.states import TRANSITIONS, Action, State, allowed_actions, next_state


def test_lifecycle_as_drawn():
    s = State.DRAFT
    for action, expected in [
        (Action.COMPLETE, State.COMPLETE),
        (Action.APPROVE, State.QUEUED),
        (Action.ACCEPTED, State.DELIVERED),
        (Action.RESULT, State.RESULT),
    ]:
        s = next_state(s, action)
        assert s == expected


@pytest.mark.parametrize("start", [State.COMPLETE, State.QUEUED])
def test_return_paths(start):
    assert next_state(start, Action.RETURN) == State.RETURNED
    assert next_state(State.RETURNED, Action.EDIT) == State.DRAFT


def test_server_return_and_invalid():
    assert next_state(State.DELIVERED, Action.SERVER_RETURN) == State.RETURNED
    assert next_state(State.QUEUED, Action.SERVER_INVALID) == State.RETURNED


def test_everything_else_is_refused_in_spanish():
    for s in State:
        for a in Action:
            if (s, a) in TRANSITIONS:
                continue
            with pytest.raises(NotAllowed) as e:
                next_state(s, a)
            assert "No se puede" in e.value.user_message
    assert allowed_actions(State.RESULT) == []


def test_roles():
    assert not can(Role.EMPADRONADOR, Perm.RECORD_APPROVE)
    assert not can(Role.DIGITADOR, Perm.USERS_MANAGE)
    assert can(Role.SUPERVISOR, Perm.RECORD_APPROVE)
    assert not can(Role.SUPERVISOR, Perm.USERS_MANAGE)
    assert all(can(Role.ADMIN, p) for p in Perm)
    with pytest.raises(NotAllowed) as e:
        require("empadronador", Perm.RECORD_APPROVE)
    assert "aprobar" in e.value.user_message
