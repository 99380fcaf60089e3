"""The field-week chart as a PNG, drawn with Qt (QImage + QPainter, offscreen).

Top: records approved but not yet at the centre, over the working hours of each
simulated day (link laptops and the USB laptop), with the link windows shaded, the
USB trips and the faults marked. Bottom: per day, households entered, records held
by the centre (by link / by USB), returns and results that reached the laptops."""

from __future__ import annotations

import os
from pathlib import Path

from sim.field_week import DAY, H, Result, day_of

W, HGT = 1400, 860
LEFT, RIGHT = 70, 30
DAY_FROM, DAY_TO = 7 * H, 19 * H  # the part of each day that is drawn


def _app() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    # A QApplication (not a QGuiApplication): the widget tests may run in this process later.
    return QApplication.instance() or QApplication([])


def draw_chart(res: Result, path: Path) -> Path:
    _app()
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

    img = QImage(W, HGT, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    qp = QPainter(img)
    qp.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans", 9)
    qp.setFont(font)
    ndays = max(1, res.sim_days)
    span = DAY_TO - DAY_FROM
    plot_w = W - LEFT - RIGHT
    day_w = plot_w / ndays

    def x_of(w: float) -> float:
        d = min(ndays - 1, day_of(w))
        t = min(max(w - d * DAY, DAY_FROM), DAY_TO)
        return LEFT + d * day_w + (t - DAY_FROM) / span * day_w

    # -- title ---------------------------------------------------------------------------
    qp.setFont(QFont("DejaVu Sans", 12, QFont.Weight.Bold))
    f = res.figures
    qp.drawText(QPointF(LEFT, 24), (
        f"A week in a ULE (seed {res.config.seed}): {int(f['households'])} households, "
        f"exactly once = {int(f['delivered_exactly_once'])}, lost = {int(f['lost'])}, "
        f"latency vs ideal = {f['latency_vs_ideal']:.3f}"))
    qp.setFont(font)

    # -- top panel: the queue ------------------------------------------------------------
    top, bottom = 50, 430
    qmax = max([a + b for _, a, b in res.queue] + [1])
    qmax = int(qmax * 1.15) + 1

    def y_q(v: float) -> float:
        return bottom - v / qmax * (bottom - top)

    for d in range(ndays):
        x0 = LEFT + d * day_w
        qp.fillRect(QRectF(x0, top, day_w, bottom - top),
                    QColor(248, 248, 248) if d % 2 else QColor(255, 255, 255))
        qp.setPen(QColor(120, 120, 120))
        qp.drawText(QRectF(x0, bottom + 4, day_w, 16), Qt.AlignmentFlag.AlignCenter,
                    f"day {d + 1}" + (" (no new)" if d >= res.config.days else ""))
    for s, e in res.windows:
        qp.fillRect(QRectF(x_of(s), top, max(2.0, x_of(e) - x_of(s)), bottom - top),
                    QColor(120, 200, 120, 150))
    qp.setPen(QPen(QColor(230, 140, 30), 1, Qt.PenStyle.DashLine))
    for t in res.trips:
        qp.drawLine(QPointF(x_of(t), top), QPointF(x_of(t), bottom))
    # grid and axis
    qp.setPen(QColor(200, 200, 200))
    step = max(1, qmax // 5)
    for v in range(0, qmax + 1, step):
        qp.drawLine(QPointF(LEFT, y_q(v)), QPointF(W - RIGHT, y_q(v)))
        qp.setPen(QColor(80, 80, 80))
        qp.drawText(QRectF(0, y_q(v) - 8, LEFT - 6, 16), Qt.AlignmentFlag.AlignRight, str(v))
        qp.setPen(QColor(200, 200, 200))

    def step_line(idx: int, color: QColor) -> None:
        qp.setPen(QPen(color, 2))
        pts = [(0.0, 0)] + [(w, (a, b)[idx]) for w, a, b in res.queue]
        for (w0, v0), (w1, _v1) in zip(pts, pts[1:], strict=False):
            if day_of(w1) != day_of(w0):  # across the night: restart at the next morning
                qp.drawLine(QPointF(x_of(w0), y_q(v0)),
                            QPointF(LEFT + (day_of(w0) + 1) * day_w, y_q(v0)))
                w0 = day_of(w1) * DAY + DAY_FROM
            qp.drawLine(QPointF(x_of(w0), y_q(v0)), QPointF(x_of(w1), y_q(v0)))
            qp.drawLine(QPointF(x_of(w1), y_q(v0)), QPointF(x_of(w1), y_q(_v1)))
        if pts:
            w_last, v_last = pts[-1]
            qp.drawLine(QPointF(x_of(w_last), y_q(v_last)), QPointF(W - RIGHT, y_q(v_last)))

    step_line(0, QColor(40, 90, 200))
    step_line(1, QColor(230, 120, 20))
    qp.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
    marks = {"apagó": "K", "servidor se cayó": "R", "dañó": "C"}
    for ev in res.events:
        if ev.kind != "fault":
            continue
        letter = next((v for k, v in marks.items() if k in ev.text), None)
        if letter is None:
            continue
        x = x_of(ev.w)
        qp.setPen(QPen(QColor(200, 30, 30), 2))
        qp.drawLine(QPointF(x, top + 18), QPointF(x, bottom))
        qp.drawText(QRectF(x - 8, top + 2, 16, 16), Qt.AlignmentFlag.AlignCenter, letter)
    qp.setFont(font)
    qp.setPen(QColor(0, 0, 0))
    qp.drawText(QPointF(LEFT, top - 6),
                "Approved records not yet at the centre (07:00-19:00 of each day)")
    legend = [
        (QColor(40, 90, 200), "link laptops (campo-1, campo-2)"),
        (QColor(230, 120, 20), "USB laptop (oficina); dashed: USB trips"),
        (QColor(120, 200, 120), "link windows (2 x 15 min)"),
        (QColor(200, 30, 30), "faults: K laptop killed, R server restarted, C corrupted file"),
    ]
    lx = W - RIGHT - 400
    qp.fillRect(QRectF(lx - 6, top + 1, 406, len(legend) * 16 + 6), QColor(255, 255, 255, 230))
    for i, (c, text) in enumerate(legend):
        y = top + 10 + i * 16
        qp.fillRect(QRectF(lx, y - 8, 14, 10), c)
        qp.setPen(QColor(0, 0, 0))
        qp.drawText(QPointF(lx + 20, y + 1), text)

    # -- bottom panel: per day -----------------------------------------------------------
    top2, bottom2 = 480, HGT - 60
    series = [
        ("entered", QColor(120, 120, 120), "households entered"),
        ("held_link", QColor(40, 90, 200), "held by the centre, by link"),
        ("held_usb", QColor(230, 120, 20), "held by the centre, by USB"),
        ("returns_seen", QColor(200, 30, 30), "returns reaching the laptops"),
        ("results_seen", QColor(40, 160, 90), "CSE results reaching the laptops"),
    ]
    vmax = max([max(r["entered"], r["held_link"] + r["held_usb"], r["results_seen"])
                for r in res.days] + [1])
    vmax = int(vmax * 1.15) + 1

    def y_b(v: float) -> float:
        return bottom2 - v / vmax * (bottom2 - top2)

    qp.setPen(QColor(0, 0, 0))
    qp.drawText(QPointF(LEFT, top2 - 8), "Per day")
    qp.setPen(QColor(200, 200, 200))
    stepb = max(1, vmax // 5)
    for v in range(0, vmax + 1, stepb):
        qp.drawLine(QPointF(LEFT, y_b(v)), QPointF(W - RIGHT, y_b(v)))
        qp.setPen(QColor(80, 80, 80))
        qp.drawText(QRectF(0, y_b(v) - 8, LEFT - 6, 16), Qt.AlignmentFlag.AlignRight, str(v))
        qp.setPen(QColor(200, 200, 200))
    groups = 4  # entered | held (stacked) | returns | results
    bw = day_w * 0.8 / groups
    for d, row in enumerate(res.days):
        x0 = LEFT + d * day_w + day_w * 0.1
        bars = [
            [("entered", row["entered"])],
            [("held_link", row["held_link"]), ("held_usb", row["held_usb"])],
            [("returns_seen", row["returns_seen"])],
            [("results_seen", row["results_seen"])],
        ]
        for g, stack in enumerate(bars):
            base = 0
            for key, v in stack:
                color = next(c for k, c, _ in series if k == key)
                if v:
                    qp.fillRect(QRectF(x0 + g * bw, y_b(base + v), bw - 2,
                                       y_b(base) - y_b(base + v)), color)
                base += v
            if base:
                qp.setPen(QColor(40, 40, 40))
                qp.drawText(QRectF(x0 + g * bw - 4, y_b(base) - 15, bw + 6, 14),
                            Qt.AlignmentFlag.AlignCenter, str(base))
        qp.setPen(QColor(80, 80, 80))
        qp.drawText(QRectF(LEFT + d * day_w, bottom2 + 4, day_w, 16),
                    Qt.AlignmentFlag.AlignCenter, f"day {d + 1} ({row['date'][5:]})")
    for i, (_k, c, text) in enumerate(series):
        x = LEFT + i * 250
        qp.fillRect(QRectF(x, HGT - 30, 14, 10), c)
        qp.setPen(QColor(0, 0, 0))
        qp.drawText(QPointF(x + 20, HGT - 21), text)
    qp.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    return path
