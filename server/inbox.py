"""Inbox resource: the signed messages the centre leaves for each device (results,
returns, settings, forms, revocation), read over HTTP page by page or as a USB file.

Its queries are in server.messages (shared with the resources that post messages)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server import devices as device_q
from server.context import Context
from server.messages import last_of_kind, page_rows, payload_place, post_many

if TYPE_CHECKING:
    from server.forms import Forms

log = logging.getLogger("siee.server.inbox")


# ------------------------------------------------------------------ resource


class Inbox:
    """Reading the inbox (HTTP pages, USB files) and broadcasting settings."""

    def __init__(self, ctx: Context, forms: Forms) -> None:
        self.ctx = ctx
        self.forms = forms

    def signed(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One stored message as the signed entry a device verifies."""
        payload = self.ctx.sealer.open(row["payload"],
                                       payload_place(row["device_id"], row["kind"]))
        msg = p.InboxMessage(int(row["cursor"]), row["kind"], row["device_id"],
                             row["created_at"], json.loads(payload or "{}"))
        return p.sign_message(msg, self.ctx.keys.signing)

    def revocation_notice(self, device_id: str) -> dict[str, Any] | None:
        """The signed device_revoked message, to put in a 403 body (None if none)."""
        with self.ctx.engine.connect() as c:
            row = last_of_kind(c, device_id, "device_revoked")
        return self.signed(row) if row else None

    def page(self, device_id: str, after: int = 0, limit: int = 100) -> dict[str, Any]:
        """{messages: [signed...], next_cursor, has_more}; limit capped by settings."""
        limit = max(1, min(limit, self.ctx.settings.inbox_page))
        with self.ctx.engine.connect() as c:
            rows = page_rows(c, device_id, after, limit + 1)
        page = rows[:limit]
        return {
            "messages": [self.signed(r) for r in page],
            "next_cursor": int(page[-1]["cursor"]) if page else after,
            "has_more": len(rows) > limit,
        }

    def broadcast_settings(self, values: dict[str, Any], ule: str | None = None) -> int:
        """Send new settings to the active devices (of one ULE, or all); returns how many."""
        with self.ctx.engine.begin() as c:
            targets = device_q.active_ids(c, ule)
            post_many(c, self.ctx.sealer, targets, "settings_changed", {"settings": values})
        log.info("settings %s sent to %d devices", sorted(values), len(targets))
        return len(targets)

    def usb_file(self, request: bytes) -> tuple[p.InboxRequest, bytes, int]:
        """Answer a laptop's USB inbox request file: (request, inbox file bytes, number
        of messages). The request must be signed by the key registered for its device;
        a revoked device gets only its signed revocation notice."""
        req = p.parse_inbox_request(request)
        dev = device_q.require(self.ctx.engine, req.device_id, via="usb_inbox",
                               allow_revoked=True)
        p.verify_inbox_request(request, dev["public_key"])
        entries: list[dict[str, Any]] = []
        after = req.after
        if dev["status"] != "active":
            notice = self.revocation_notice(req.device_id)
            entries = [notice] if notice and notice["cursor"] > after else []
        else:
            for _ in range(100000):
                page = self.page(req.device_id, after, self.ctx.settings.inbox_page)
                entries += page["messages"]
                after = int(page["next_cursor"])
                if not page["has_more"]:
                    break
        forms_out: list[tuple[str, str, bytes, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for e in entries:
            if e["kind"] != "form_published":
                continue
            key = (str(e["payload"].get("form_id")), str(e["payload"].get("version")))
            if key in seen:
                continue
            seen.add(key)
            try:
                content, filename, sig = self.forms.get(*key)
            except ProtocolError:
                continue  # announced but no longer stored: the laptop reports it
            forms_out.append((key[0], key[1], content, filename, sig))
        next_cursor = int(entries[-1]["cursor"]) if entries else req.after
        data = p.sign_inbox_file(req.device_id, req.after, entries, next_cursor,
                                 self.ctx.keys.signing, forms_out, req.nonce)
        if req.reply_key:  # sealed to the device: reasons never in clear on the stick
            data = p.seal_inbox_file(data, req.reply_key, req.device_id)
        log.info("usb inbox for %s after %d: %d messages", req.device_id, req.after,
                 len(entries))
        return req, data, len(entries)
