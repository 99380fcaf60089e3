"""Reading records as the logged-in user may see them (`ws.get`, `ws.list_records`...):
an enumerator sees the records they wrote or were assigned, a role with
RECORD_VIEW_ALL sees every record. Shared by the workspace and its parts."""

from __future__ import annotations

from app.core.errors import NotAllowed
from app.core.roles import Perm, can
from app.core.states import State
from app.store.audit import AuditEntry
from app.store.records import RecordMeta
from app.workspace.context import Context, locked


class Records:
    """Visibility-checked reads of records (no writes: those are the workspace's)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def check_visible(self, m: RecordMeta) -> None:
        me = self.ctx.me()
        if m.owner_id != me.id and m.author_id != me.id and not can(me.role, Perm.RECORD_VIEW_ALL):
            raise NotAllowed(
                "record not visible to this user", "Esta ficha pertenece a otro usuario."
            )

    @locked
    def get(self, uuid: str) -> RecordMeta:
        m = self.ctx.session.records.meta(self.ctx.conn, uuid)
        self.check_visible(m)
        return m

    @locked
    def answers(self, uuid: str) -> dict:
        m = self.get(uuid)
        return self.ctx.session.records.answers(self.ctx.conn, m)

    @locked
    def notes(self, uuid: str) -> dict:
        m = self.get(uuid)
        return self.ctx.session.records.notes(self.ctx.conn, m)

    @locked
    def list(
        self,
        state: State | str | None = None,
        form_id: str | None = None,
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[RecordMeta]:
        me = self.ctx.me()
        where: list[str] = []
        args: list[object] = []
        if state:
            where.append("state=?")
            args.append(State(state).value)
        if form_id:
            where.append("form_id=?")
            args.append(form_id)
        if not can(me.role, Perm.RECORD_VIEW_ALL):
            where.append("(author_id=? OR assignee_id=?)")
            args += [me.id, me.id]
        elif owner:
            where.append("(COALESCE(assignee_id, author_id)=?)")
            args.append(int(self.ctx.vault.user_row(owner)["id"]))
        return self.ctx.session.records.list(self.ctx.conn, " AND ".join(where), tuple(args), limit)

    @locked
    def counts_by_state(self, exclude_forms: tuple[str, ...] = ()) -> dict[str, int]:
        """Records the user may see per state (state value -> count), without the
        records of the form ids in `exclude_forms`."""
        me = self.ctx.me()
        owner = None if can(me.role, Perm.RECORD_VIEW_ALL) else me.id
        counts = self.ctx.session.records.count_by_state(self.ctx.conn, owner_id=owner,
                                                         exclude_forms=exclude_forms)
        return {s.value: n for s, n in counts.items()}

    @locked
    def find_by_dni(self, dni: str) -> list[RecordMeta]:
        self.ctx.me()
        records, conn = self.ctx.session.records, self.ctx.conn
        out = []
        for uuid in records.find_uuids_by_dni(conn, dni):
            m = records.meta(conn, uuid)
            try:
                self.check_visible(m)
            except NotAllowed:
                continue
            out.extend(records.list(conn, "uuid=?", (uuid,)))
        return out

    @locked
    def history(self, uuid: str) -> list[AuditEntry]:
        self.get(uuid)
        return self.ctx.session.audit.entries(self.ctx.conn, record_uuid=uuid)
