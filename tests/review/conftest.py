"""A ULE team on a real workspace: admin, two supervisors, two enumerators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.demo import Household, households
from app.demo_answers import fsu_answers, s100_answers
from app.forms import bundled_form
from app.workspace import Workspace
from tests.conftest import ADMIN_PW

PASSWORDS = {
    "admin": ADMIN_PW,
    "sup": "clave-sup-1234",
    "sup2": "clave-sup2-1234",
    "emp": "clave-emp-1234",
    "emp2": "clave-emp2-1234",
}


@dataclass
class Team:
    ws: Workspace
    clock: Any

    def as_(self, username: str) -> Workspace:
        if self.ws.user is not None and self.ws.user.username == username:
            return self.ws
        self.ws.logout()
        self.ws.login(username, PASSWORDS[username])
        return self.ws

    def fsu(self, hh: Household, complete: bool = True, **changes: str) -> str:
        fd = bundled_form("fsu")
        answers = {**fsu_answers(hh), **changes}
        uuid = self.ws.new_record("fsu", str(fd.version), answers)
        if complete:
            self.ws.complete(uuid)
        return uuid

    def s100(self, hh: Household, complete: bool = True, **changes: str) -> str:
        fd = bundled_form("s100")
        answers = {**s100_answers(hh), **changes}
        uuid = self.ws.new_record("s100", str(fd.version), answers)
        if complete:
            self.ws.complete(uuid)
        return uuid


@pytest.fixture
def team(ws_factory, clock) -> Team:
    ws = ws_factory(create=True)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.admin.add_user("sup2", "supervisor", PASSWORDS["sup2"], "Carlos Mamani", must_change=False)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    ws.admin.add_user("emp2", "empadronador", PASSWORDS["emp2"], "Luz Condori", must_change=False)
    return Team(ws, clock)


@pytest.fixture(scope="session")
def homes() -> list[Household]:
    return households(12, seed=11)
