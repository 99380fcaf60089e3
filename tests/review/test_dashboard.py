"""The supervisor's dashboard: counts, delivery, results and the households that
wait longest against the 8 / 25 business-day targets."""

from __future__ import annotations

import datetime as dt

from app.core import deadlines
from app.store.db import transaction
from tests.review.helpers import centre_returns, post_result


def test_business_days_with_peru_holidays():
    assert deadlines.easter(2026) == dt.date(2026, 4, 5)
    # Holy Thursday and Good Friday 2026 are not business days
    assert deadlines.business_days_between(dt.date(2026, 3, 30), dt.date(2026, 4, 6)) == 3
    # 8 and 9 December are holidays: 8 business days from Friday 4 December
    assert deadlines.add_business_days(dt.date(2026, 12, 4), 8) == dt.date(2026, 12, 18)
    assert deadlines.business_days_between(dt.date(2026, 12, 4), dt.date(2026, 12, 18)) == 8
    # the fast path over whole weeks agrees with counting day by day
    start = dt.date(2026, 1, 1)
    for span in (1, 6, 7, 8, 15, 40, 120, 400):
        end = start + dt.timedelta(days=span)
        slow = sum(
            deadlines.is_business_day(start + dt.timedelta(days=i)) for i in range(1, span + 1)
        )
        assert deadlines.business_days_between(start, end) == slow, span
    assert deadlines.deadline_text(10, 8) == "vencido hace 2 días hábiles"
    assert deadlines.deadline_text(8, 8) == "vence hoy"
    assert deadlines.deadline_text(3, 8).startswith("a tiempo")


def test_dashboard_counts_delivery_results_and_targets(team, homes):
    team.clock.t = dt.datetime(2026, 11, 16, 10, 0).timestamp()
    today = dt.date(2026, 11, 20)
    a, b, c, d, e, f, g = homes[:7]
    ws = team.as_("emp")
    team.s100(a, **{"/s100/solicitud/fecha_solicitud": "2026-11-02"})  # no visit yet: late
    team.s100(b, **{"/s100/solicitud/fecha_solicitud": "2026-11-18"})  # no visit yet: on time
    team.s100(c, **{"/s100/solicitud/fecha_solicitud": "2026-10-19"})
    fsu_c = team.fsu(c)  # visited, waiting for review
    team.s100(d, **{"/s100/solicitud/fecha_solicitud": "2026-10-20"})
    fsu_d = team.fsu(d)
    ws = team.as_("emp2")
    fsu_e, fsu_f, fsu_g = team.fsu(e), team.fsu(f), team.fsu(g)
    team.fsu(homes[7], complete=False)
    ws = team.as_("sup")
    ws.review.approve_many([fsu_d, fsu_e, fsu_g])
    post_result(ws, fsu_d, "pobre", "2026-11-19", "2029-11-19")
    centre_returns(ws, fsu_e, "Falta el suministro eléctrico.")
    ws.review.return_record(fsu_f, "Revise el parentesco.")

    with ws.lock, transaction(ws.db) as conn:  # a conflict the centre reported
        ws.records.update_meta(conn, fsu_g, quarantined=1)

    dash = ws.documents.dashboard(today=today)
    assert dash.quarantined == 1
    assert dash.counts == {
        "DRAFT": 1, "COMPLETE": 5, "QUEUED": 1, "DELIVERED": 0, "RESULT": 1, "RETURNED": 2,
        "HELD": 0,
    }
    emp = next(r for r in dash.by_enumerator if r.name == "Juan Pérez (emp)")
    emp2 = next(r for r in dash.by_enumerator if r.name == "Luz Condori (emp2)")
    assert emp.counts["COMPLETE"] == 5 and emp.counts["RESULT"] == 1 and emp.total == 6
    assert emp2.counts["RETURNED"] == 2 and emp2.counts["QUEUED"] == 1
    assert emp2.counts["DRAFT"] == 1 and emp2.total == 4
    assert dash.returned_by_supervisor == 1 and dash.returned_by_centre == 1
    assert dash.results == {"Pobre": 1}
    assert dash.oldest_queued_at is not None and dash.oldest_complete_at is not None
    # per day: the last 14 days, everything happened on Monday the 16th
    assert len(dash.by_day) == 14 and dash.by_day[-1].day == today
    monday = next(r for r in dash.by_day if r.day == dt.date(2026, 11, 16))
    assert monday.created == 10 and monday.completed == 9 and monday.approved == 3
    assert monday.delivered == 2
    assert sum(r.created for r in dash.by_day) == 10

    waiting = {w.head_name: w for w in dash.waiting}
    wa = waiting[a.head.full_name]
    assert wa.stage == "Visita pendiente" and wa.target == 8
    assert wa.since == dt.date(2026, 11, 2) and wa.elapsed == 14 and wa.overdue
    assert wa.due == dt.date(2026, 11, 12)
    assert "vencido hace 6" in wa.status
    wb = waiting[b.head.full_name]
    assert wb.elapsed == 2 and not wb.overdue
    wc = waiting[c.head.full_name]
    assert wc.uuid == fsu_c and wc.target == 25 and wc.stage == "FSU en revisión del supervisor"
    assert wc.since == dt.date(2026, 10, 19) and wc.elapsed == 24 and not wc.overdue
    assert wc.due == dt.date(2026, 11, 23) and wc.status == "vence mañana (queda 1 día hábil)"
    assert d.head.full_name not in waiting  # has its result
    assert waiting[e.head.full_name].stage == "FSU observada, por corregir"
    assert dash.visits_pending == 2 and dash.visits_overdue == 1
    assert dash.results_pending == 5  # c, e, f, g and the draft of homes[7]
    # the most urgent first
    assert dash.waiting[0].head_name == a.head.full_name
