"""SIEE Campo: offline-first household registration for Peru's ULEs."""

__version__ = "0.1.0"
