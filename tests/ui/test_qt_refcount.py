"""Guard against a PySide6 build that leaks references to None/True (6.12.0 on
Python 3.11 aborts the interpreter after a few thousand calls). Runs in a bare
subprocess so that no workaround in app.ui can hide it."""

import subprocess
import sys

SCRIPT = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
n0, t0 = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(2000):
    label.setText("x")
class O(QObject):
    s = Signal(int)
o = O()
o.s.connect(lambda v: None)
for _ in range(2000):
    o.s.emit(1)
print(sys.getrefcount(None) - n0, sys.getrefcount(True) - t0)
"""


def test_qt_calls_do_not_leak_singleton_references():
    p = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-500:]
    none_delta, true_delta = (int(x) for x in p.stdout.split())
    assert abs(none_delta) < 100 and abs(true_delta) < 100, (none_delta, true_delta)
