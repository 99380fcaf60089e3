"""States of a sync batch on the laptop and the centre's verdict on one record.

Plain enums (values are what the database and the wire carry), shared by the
store (app/store/outbox.py), the sync client and the protocol."""

from __future__ import annotations

from enum import StrEnum


class BatchState(StrEnum):
    """A batch stored on the laptop (table sync_batches)."""

    PENDING = "pending"  # stored, sent zero or more times, no receipt yet
    DONE = "done"  # its receipt was verified and applied
    ABANDONED = "abandoned"  # set aside; its records go out again in a new batch


class ReceiptStatus(StrEnum):
    """The centre's answer for one record revision in a receipt (protocol.md §5)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the centre already held this revision
    INVALID = "invalid"  # refused: the record comes back RETURNED with the reasons
    CONFLICT = "conflict"  # kept apart on the laptop (quarantine)
