"""Workspace operations for IT: settings file, backup and restore, diagnostics.

A mixin of app.workspace.Workspace: same lock, same audit, same role checks.
The work itself lives in app/settings_file.py, app/backup.py and app/doctor.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.roles import Perm, Role, require
from app.store.db import schema_version, transaction

if TYPE_CHECKING:
    from app.backup import BackupInfo, Progress
    from app.settings_file import FileSettings

log = logging.getLogger("siee.admin")

_APPLIED_KEY = "settings_file_applied"


class AdminOps:
    """Mixed into Workspace; `self` is the Workspace."""

    # -- settings file ----------------------------------------------------------------
    def file_settings(self: Any) -> FileSettings:
        from app.settings_file import load_file_settings

        return load_file_settings()

    def apply_file_settings(self: Any, fs: FileSettings | None = None) -> list[str]:
        """Bring the settings files' values into the workspace (see app/settings_file.py
        for the precedence). Needs no log-in: it runs at every start. Returns the keys
        that changed."""
        from app.settings_file import load_file_settings, merge
        from app.workspace import DEFAULT_SETTINGS

        fs = fs if fs is not None else load_file_settings()
        for e in fs.errors:
            log.warning("settings file problem: %s", e)
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (_APPLIED_KEY,)).fetchone()
            applied = json.loads(row[0]) if row else {}
            stored = self.settings()
            new, changed = merge(stored, applied, fs, DEFAULT_SETTINGS)
            if not changed and applied == fs.values:
                return []
            with transaction(self.db) as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('settings', ?)",
                    (json.dumps(new),),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    (_APPLIED_KEY, json.dumps(fs.values)),
                )
                if changed and self._audit is not None:
                    self._audit_in(
                        conn, "settings", detail={"changed": changed, "by": "settings_file"}
                    )
        if changed:
            log.info("settings from file applied: %s", ",".join(changed))
        return changed

    def settings_view(self: Any) -> list[dict[str, Any]]:
        """For the settings screen: each key with its value, source and whether IT locked it."""
        from app.settings_file import KEYS, LABELS, sources
        from app.workspace import DEFAULT_SETTINGS

        fs = self.file_settings()
        eff = self.settings()
        src = sources(eff, fs, DEFAULT_SETTINGS)
        return [
            {
                "key": k,
                "label": LABELS[k],
                "value": eff.get(k),
                "source": src[k],
                "locked": k in fs.locked,
                "file_value": fs.values.get(k),
                "in_file": k in fs.values,
            }
            for k in KEYS
        ]

    def save_settings(self: Any, **changes: Any) -> dict[str, Any]:
        """The settings screen's save: checks values, refuses keys IT locked."""
        from app.core.errors import NotAllowed, ValidationError
        from app.settings_file import LABELS, check_value

        fs = self.file_settings()
        locked = sorted(set(changes) & fs.locked)
        if locked:
            raise NotAllowed(
                f"settings locked by file: {locked}",
                "TI fijó estas opciones en el archivo de configuración y no se pueden cambiar "
                "aquí: " + ", ".join(LABELS.get(k, k) for k in locked) + ".",
            )
        checked = {}
        for k, v in changes.items():
            if k not in LABELS:
                raise ValidationError(f"unknown setting {k}", "Opción desconocida.")
            try:
                checked[k] = check_value(k, v)
            except ValueError as e:
                raise ValidationError(f"bad value for {k}", f"{LABELS[k]}: {e}.") from None
        return self.update_settings(**checked)

    # -- backup -------------------------------------------------------------------------
    def backup_to(self: Any, target: Path, progress: Progress | None = None) -> BackupInfo:
        """An encrypted backup of the whole workspace (records, users, audit, sync state,
        installed forms) that the recovery code or an administrator's password opens."""
        from app.backup import form_files, note_pending, snapshot_database, write_backup

        with self._lock:
            me = self._me()
            require(me.role, Perm.BACKUP)
            assert self._data_key is not None
            data_key = self._data_key
            # One read transaction: the header's counts describe exactly the snapshot,
            # even while another program writes to the same database.
            # The reads come first: the backup then copies inside the same read
            # transaction (it does not end a transaction it did not open).
            self.db.conn.execute("BEGIN")
            try:
                slots, meta = self._backup_header_parts()
                image = snapshot_database(self.db.conn)
            finally:
                self.db.conn.execute("COMMIT")
            forms = form_files(self.data_dir)
            with transaction(self.db) as conn:  # finished or removed at next start if killed
                note_pending(conn, Path(target), add=True)
        info = write_backup(Path(target), data_key, image, forms, slots, meta, progress)
        with self._lock, transaction(self.db) as conn:
            note_pending(conn, Path(target), add=False)
            self._audit_in(
                conn,
                "backup",
                detail={"backup": info.backup_id, "records": info.records, "file": info.path.name},
            )
        return info

    def _backup_header_parts(self: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Key slots that may open the backup (recovery code, active admins) and the
        clear facts of the header; read inside the snapshot's transaction."""
        import base64

        slots = []
        admins = {
            f"user:{uid}": name
            for uid, name in self.db.execute(
                "SELECT id, username FROM users WHERE role=? AND active=1", (Role.ADMIN.value,)
            )
        }
        for slot, salt, kdf, wrapped in self.db.execute(
            "SELECT slot, salt, kdf, wrapped FROM key_slots ORDER BY slot"
        ):
            if slot != "recovery" and slot not in admins:
                continue
            entry = {
                "slot": slot,
                "salt": base64.b64encode(salt).decode(),
                "kdf": kdf,
                "wrapped": base64.b64encode(wrapped).decode(),
            }
            if slot in admins:
                entry["username"] = admins[slot]
            slots.append(entry)
        counts = dict(
            self.db.execute("SELECT state, COUNT(*) FROM records GROUP BY state").fetchall()
        )
        wid = self.db.execute("SELECT value FROM meta WHERE key='workspace_id'").fetchone()
        meta = {
            "workspace_id": wid[0] if wid else "",
            "schema_version": schema_version(self.db),
            "ule_ubigeo": self.settings().get("ule_ubigeo"),
            "counts": counts,
        }
        return slots, meta

    # -- diagnostics ----------------------------------------------------------------------
    def doctor(self: Any) -> dict[str, Any]:
        from app.doctor import doctor_report

        return doctor_report(self.data_dir)
