"""Household data carried from an S100 into a new FSU.

Answers move between questions of the same name (in the same repeat, member by
member), so the forms' authors decide what carries over by naming. Two
conventions on top of that:

* the S100's single «apellidos» field is split into the FSU's two;
* a question `sol_X` outside any repeat describes the requester (the S100's
  solicitante): it fills the empty `X` of the destination's member whose document
  is the requester's (`tipo_doc`/`num_doc` equal to `sol_tipo_doc`/`sol_num_doc`,
  a DNI compared by its 8 digits), so the requester's birth date reaches that
  member's `fecha_nacimiento`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.errors import SieeError
from app.core.identifiers import normalize_dni

if TYPE_CHECKING:
    from app.forms.definition import NodeDef
    from app.forms.session import FormSession

# source field -> destination fields filled from its words (last one takes the rest)
SPLITS: dict[str, tuple[str, ...]] = {"apellidos": ("apellido_paterno", "apellido_materno")}
NOT_COPIED = frozenset({"calculate", "note", "start", "end", "today"})
REQUESTER = "sol_"  # prefix of the requester's questions (outside repeats)
DNI = "1"  # tipo_doc code of a DNI in both forms


def _targets(dst: FormSession) -> dict[str, list[NodeDef]]:
    out: dict[str, list[NodeDef]] = {}
    for nd in dst.formdef.root.walk():
        if nd.kind == "question" and nd.type not in NOT_COPIED:
            out.setdefault(nd.name, []).append(nd)
    return out


def _repeat_of(fd_root: NodeDef, nd: NodeDef) -> tuple[str, ...]:
    """Names of the repeats around a node definition."""
    names = []
    node = fd_root
    for part in nd.path[1:-1]:
        node = next(c for c in node.children if c.name == part)
        if node.is_repeat:
            names.append(node.name)
    return tuple(names)


def _concrete(nd: NodeDef, indices: dict[str, int], fd_root: NodeDef) -> str | None:
    parts = [nd.path[0]]
    node = fd_root
    for part in nd.path[1:]:
        node = next(c for c in node.children if c.name == part)
        if node.is_repeat:
            if part not in indices:
                return None
            parts.append(f"{part}[{indices[part]}]")
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def carry_over(src: FormSession, dst: FormSession) -> int:
    """Copy what `dst` has a same-named question for; returns how many answers."""
    targets = _targets(dst)
    root = dst.formdef.root
    src_root = src.formdef.root
    copied = 0
    for path, value in src.answers().items():
        src_nd = src.formdef.node(path)
        if src_nd.type in NOT_COPIED:
            continue
        indices: dict[str, int] = {}
        for part in path.strip("/").split("/"):
            if part.endswith("]") and "[" in part:
                name, idx = part[:-1].split("[", 1)
                indices[name] = int(idx)
        src_repeats = _repeat_of(src_root, src_nd)
        names = SPLITS.get(src_nd.name, (src_nd.name,))
        words = value.split()
        for k, name in enumerate(names):
            part_value = value
            if len(names) > 1:
                last = k == len(names) - 1
                part_value = " ".join(words[k:]) if last else " ".join(words[k : k + 1])
            if not part_value:
                continue
            for nd in targets.get(name, []):
                if _repeat_of(root, nd) != src_repeats or nd.type != src_nd.type:
                    continue
                dst_path = _concrete(nd, indices, root)
                if dst_path is None:
                    continue
                for rep, idx in indices.items():
                    base = dst_path.split(f"/{rep}[", 1)[0] + f"/{rep}"
                    while dst.repeat_count(base) < idx:
                        dst.add_repeat(base)
                try:
                    dst.set(dst_path, part_value)
                    copied += 1
                except SieeError:
                    continue
                break
    return copied + _requester_into_member(src, dst)


def _doc_key(tipo: str, num: str) -> tuple[str, str] | None:
    """(tipo_doc, number) compared between forms: a DNI by its 8 digits, any other
    document by its text without spaces, upper case. None without a number."""
    num = "".join(num.split()).upper()
    if not tipo or not num:
        return None
    if tipo == DNI:
        try:
            return tipo, normalize_dni(num)
        except SieeError:
            return None
    return tipo, num


def _requester_into_member(src: FormSession, dst: FormSession) -> int:
    """The `sol_X` answers of `src` into the empty `X` of the `dst` member with the
    requester's document (module docstring). Returns how many answers were set."""
    own: dict[str, tuple[str, str]] = {}  # X -> (source path, value)
    src_root = src.formdef.root
    for path, value in src.answers().items():
        nd = src.formdef.node(path)
        if nd.name.startswith(REQUESTER) and nd.type not in NOT_COPIED and value \
                and not _repeat_of(src_root, nd):
            own[nd.name[len(REQUESTER):]] = (path, value)
    key = _doc_key(own.get("tipo_doc", ("", ""))[1], own.get("num_doc", ("", ""))[1])
    if key is None:
        return 0
    root = dst.formdef.root
    members = [nd for nd in root.walk() if nd.is_repeat
               and {"tipo_doc", "num_doc"} <= {c.name for c in nd.children}]
    copied = 0
    for rep in members:
        base = "/" + "/".join(rep.path)
        kinds = {c.name: c for c in rep.children if c.kind == "question"}
        for i in range(1, dst.repeat_count(base) + 1):
            at = f"{base}[{i}]"
            if _doc_key(dst.get(f"{at}/tipo_doc"), dst.get(f"{at}/num_doc")) != key:
                continue
            for name, (spath, value) in own.items():
                nd = kinds.get(name)
                if nd is None or nd.type != src.formdef.node(spath).type \
                        or nd.type in NOT_COPIED or dst.get(f"{at}/{name}"):
                    continue
                try:
                    dst.set(f"{at}/{name}", value)
                    copied += 1
                except SieeError:
                    continue
            return copied
    return copied
