"""The centre reads a received record's rules on the day it was completed
(server.validation.record_day): ages and "not in the future" dates as the laptop saw
them, however long the record waited for a connection; never a day in the future."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.forms import bundled_form
from server.validation import Validator, record_day


def test_record_day_reads_the_completion_time_in_the_servers_zone():
    moment = datetime(2026, 3, 10, 15, 4, 5).astimezone()
    assert record_day(moment.isoformat()) == date(2026, 3, 10)
    utc = "2026-03-10T15:04:05Z"
    assert record_day(utc) == datetime.fromisoformat("2026-03-10T15:04:05+00:00") \
        .astimezone().date()
    for bad in (None, "", "ayer", "2026-13-40T00:00:00Z"):
        assert record_day(bad) is None
    future = (datetime.now().astimezone() + timedelta(days=3)).isoformat()
    assert record_day(future) is None  # a laptop's clock cannot move a record ahead


def test_a_visit_is_checked_against_the_day_the_record_was_completed():
    """The FSU's visit date must not be in the future: of the day it was completed."""
    fd = bundled_form("fsu")
    answers = {"form_id": "fsu", "form_version": fd.version,
               "answers": {"/fsu/control/fecha_visita": "2026-03-11"}, "repeats": {}}
    check = Validator().batch()
    late = check("fsu", fd.version, answers, "2026-03-10T15:00:00Z")
    assert "/fsu/control/fecha_visita: " in "\n".join(late)
    same_day = check("fsu", fd.version, answers, "2026-03-11T15:00:00Z")
    assert not any(r.startswith("/fsu/control/fecha_visita: ") for r in same_day)
    assert not any(r.startswith("/fsu/control/fecha_visita: ")
                   for r in check("fsu", fd.version, answers))  # today: long after
