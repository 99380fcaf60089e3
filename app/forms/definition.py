"""The form definition the engine runs: a tree of NodeDef with their expressions
and choices, built by app.forms.loader from an XLSForm.

A FormDef pickles without its compiled expressions (closures);
app.forms.graph.program_of(fd) compiles them on first use and keeps them here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.errors import SieeError

if TYPE_CHECKING:
    from app.forms.graph import Program

Path = tuple[str, ...]

QUESTION_TYPES = frozenset({
    "text", "integer", "decimal", "select_one", "select_multiple", "date", "datetime",
    "time", "note", "calculate", "acknowledge", "geopoint", "start", "end", "today",
})


@dataclass(frozen=True, slots=True)
class Problem:
    row: int | None
    message: str  # Spanish

    def __str__(self) -> str:
        return f"fila {self.row}: {self.message}" if self.row else self.message


class FormLoadError(SieeError):
    """A form pyxform refuses or that uses what the engine cannot run.
    `problems` lists each one with its spreadsheet row (survey sheet)."""

    code = "form_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        text = "; ".join(str(p) for p in self.problems) or "formulario inválido"
        super().__init__(f"form refused: {text}", f"El formulario no es válido: {text}")


@dataclass(slots=True)
class Choice:
    name: str
    labels: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)

    def label(self, lang: str | None) -> str:
        if lang and lang in self.labels:
            return self.labels[lang]
        return next(iter(self.labels.values()), self.name)


@dataclass(slots=True)
class NodeDef:
    name: str
    path: Path
    kind: str  # group | repeat | question
    type: str = "group"  # question type (see QUESTION_TYPES), or group / repeat
    row: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)
    relevant: str | None = None
    required: str | None = None
    required_msgs: dict[str, str] = field(default_factory=dict)
    constraint: str | None = None
    constraint_msgs: dict[str, str] = field(default_factory=dict)
    warning: str | None = None
    warning_msgs: dict[str, str] = field(default_factory=dict)
    calculation: str | None = None
    default: str | None = None
    readonly: str | None = None
    trigger: list[Path] = field(default_factory=list)
    appearance: str | None = None
    list_name: str | None = None  # choices list (or itemset file)
    choice_filter: str | None = None
    repeat_count: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    # `select_one ${name}`: node-set expression whose values are the choices (the
    # answers of a question inside a repeat); None for ordinary choice lists
    choice_from: str | None = None
    children: list[NodeDef] = field(default_factory=list)

    @property
    def path_str(self) -> str:
        return "/" + "/".join(self.path)

    @property
    def is_select(self) -> bool:
        return self.type in ("select_one", "select_multiple")

    @property
    def is_repeat(self) -> bool:
        return self.kind == "repeat"

    def label(self, lang: str | None) -> str:
        return _pick(self.labels, lang)

    def hint(self, lang: str | None) -> str:
        return _pick(self.hints, lang)

    def walk(self) -> list[NodeDef]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


def _pick(d: dict[str, str], lang: str | None) -> str:
    if not d:
        return ""
    if lang and lang in d:
        return d[lang]
    return next(iter(d.values()))


@dataclass(slots=True)
class FormDef:
    form_id: str
    version: str
    title: str
    root: NodeDef
    default_language: str | None
    languages: list[str]
    choices: dict[str, list[Choice]]
    source_hash: str = ""
    warnings: list[str] = field(default_factory=list)
    names: dict[str, Path] = field(default_factory=dict)
    by_path: dict[Path, NodeDef] = field(default_factory=dict)
    _program: Program | None = None  # filled by app.forms.graph.program_of

    def __post_init__(self) -> None:
        if not self.by_path:
            self.by_path = {d.path: d for d in self.root.walk()}

    @property
    def nodes(self) -> NodeDef:
        """The root group of the node tree."""
        return self.root

    @property
    def root_name(self) -> str:
        return self.root.name

    def node(self, path: str | Path) -> NodeDef:
        """NodeDef of a generic or concrete path ('/fsu/integrantes[2]/edad' works)."""
        if isinstance(path, str):
            path = generic_path(path)
        return self.by_path[path]

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if k != "_program"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k in self.__slots__:
            object.__setattr__(self, k, state.get(k))
        self._program = None


def repeat_choices(nodes: Any) -> list[Choice]:
    """Choices of a `select_one ${name}` question from the node-set of that question's
    answers in a repeat: each distinct non-empty answer once, in instance order, as
    both the value and the label (what pyxform's itemset shows in ODK Collect)."""
    out: list[Choice] = []
    seen: set[str] = set()
    for n in nodes if isinstance(nodes, list) else []:
        v = n.string_value()
        if v and v not in seen:
            seen.add(v)
            out.append(Choice(v, {"": v}))
    return out


def generic_path(path: str) -> Path:
    """'/fsu/integrantes[2]/edad' -> ('fsu', 'integrantes', 'edad')."""
    return tuple(p.split("[", 1)[0] for p in path.strip("/").split("/") if p)


def split_path(path: str) -> list[tuple[str, int | None]]:
    """'/fsu/integrantes[2]/edad' -> [('fsu', None), ('integrantes', 2), ('edad', None)]."""
    out: list[tuple[str, int | None]] = []
    for part in path.strip("/").split("/"):
        if not part:
            continue
        if part.endswith("]") and "[" in part:
            name, idx = part[:-1].split("[", 1)
            try:
                out.append((name, int(idx)))
            except ValueError as e:
                raise ValueError(f"bad position in path {path!r}") from e
        else:
            out.append((part, None))
    return out
