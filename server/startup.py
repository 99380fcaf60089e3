"""What every `siee-server` command settles before it touches the data: which database
and data folder it runs on (options or environment), that the database answers, that
the data key opens what the database already holds sealed, and which server keys the
command is about to create.

A centre's administrator runs these commands by hand (docs/deploy.md): an unset
variable, the service user's home instead of the data folder, a key from another
server or a wrong database password each end here in a Spanish message (StartupRefused)
saying what happened and what to do, never in a traceback nor in a server that starts
and writes with the wrong key."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from server.keys import ENC_FILE, SIG_FILE
from server.sealing import BPREFIX, KEY_ENV, KEY_FILE, PREFIX, Sealer, SealError

DB_ENV = "SIEE_DB"
DATA_ENV = "SIEE_SERVER_DATA"


class StartupRefused(Exception):
    """A command cannot run on this database / data folder / key.

    code: short English code (logs); detail: English detail (logs);
    message: what the administrator reads (Spanish: what happened, what to do)."""

    def __init__(self, code: str, detail: str, message: str) -> None:
        super().__init__(detail)
        self.code, self.detail, self.message = code, detail, message


def db_url_from(option: str | None, environ: dict[str, str] | None = None) -> str:
    """The database URL of a command: --db when given, else $SIEE_DB, else "" (a SQLite
    file in the data folder). An empty --db (`--db "$SIEE_DB"` with the variable unset)
    or an empty SIEE_DB is refused: it used to mean the SQLite file silently."""
    env = os.environ if environ is None else environ
    if option is not None:
        if not option.strip():
            raise StartupRefused(
                "empty_db_option", "--db given an empty value",
                "La opción --db llegó vacía (¿se escribió --db \"$SIEE_DB\" sin haber "
                "cargado la variable SIEE_DB en esta sesión?). No se usó ninguna base de "
                "datos. Quite --db y deje la URL en la variable de entorno SIEE_DB "
                "(p. ej. la de /etc/siee/server.env), o escriba la URL completa.")
        return option.strip()
    value = env.get(DB_ENV)
    if value is not None and not value.strip():
        raise StartupRefused(
            "empty_db_env", f"{DB_ENV} is set but empty",
            "La variable de entorno SIEE_DB está definida pero vacía. No se usó ninguna "
            "base de datos. Ponga en ella la URL de la base "
            "(postgresql+psycopg://siee:CLAVE@127.0.0.1:5432/siee) o quítela para usar "
            "un archivo SQLite de pruebas en la carpeta de datos.")
    return (value or "").strip()


def data_dir_from(option: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """The data folder of a command: --data when given, else $SIEE_SERVER_DATA, else None
    (the service user's own folder, server.settings.default_data_dir). Empty values are
    refused, as for db_url_from."""
    env = os.environ if environ is None else environ
    if option is not None:
        if not option.strip():
            raise StartupRefused(
                "empty_data_option", "--data given an empty value",
                "La opción --data llegó vacía (¿una variable sin cargar?). Quite --data y "
                "deje la carpeta en la variable SIEE_SERVER_DATA, o escriba la carpeta "
                "(p. ej. /var/lib/siee-server).")
        return Path(option)
    value = env.get(DATA_ENV)
    if value is not None and not value.strip():
        raise StartupRefused(
            "empty_data_env", f"{DATA_ENV} is set but empty",
            "La variable de entorno SIEE_SERVER_DATA está definida pero vacía. Ponga en "
            "ella la carpeta de datos del servidor (p. ej. /var/lib/siee-server).")
    return Path(value) if value else None


def safe_url(url: str) -> str:
    """The URL with its password hidden (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(URL ilegible)"


def database_error(url: str, exc: Exception) -> StartupRefused:
    """A Spanish StartupRefused for an error connecting to or reading the database."""
    shown = safe_url(url)
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return StartupRefused(
            "bad_db_url", f"database URL not understood: {type(exc).__name__}",
            f"La URL de la base de datos no es válida ({shown}). Debe tener la forma "
            "postgresql+psycopg://USUARIO:CLAVE@127.0.0.1:5432/BASE; si la clave tiene "
            "caracteres especiales (@ : / % # ?), escríbalos codificados (%40, %3A...).")
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0][:300] if reason else type(exc).__name__
    if "password authentication failed" in first or "authentication" in first.lower():
        what = "el usuario o la clave de la base de datos no son correctos"
        todo = ("Revise la clave en SIEE_DB (/etc/siee/server.env): debe ser la que se "
                "fijó con ALTER ROLE, con los caracteres especiales codificados.")
    else:
        what = "la base de datos no responde o no existe"
        todo = ("Revise que PostgreSQL esté en marcha (systemctl status postgresql) y que "
                "la base, el usuario y la dirección de SIEE_DB existan.")
    return StartupRefused(
        "db_unreachable", f"cannot use the database {shown}: {first}",
        f"No se pudo usar la base de datos {shown}: {what}. {todo} (Detalle: {first})")


@dataclass(frozen=True)
class KeyState:
    """Which of the server's keys exist before a command runs."""

    data_dir: Path
    signing: bool
    encryption: bool
    data_key_file: bool
    data_key_env: bool

    def missing(self) -> list[str]:
        """Key files the command will create (the data key only when not from the env)."""
        out = [f for f, there in ((SIG_FILE, self.signing), (ENC_FILE, self.encryption))
               if not there]
        if not self.data_key_file and not self.data_key_env:
            out.append(KEY_FILE)
        return out


def key_state(data_dir: Path) -> KeyState:
    """The keys present in `data_dir` (and whether SIEE_SERVER_DATA_KEY is set)."""
    d = Path(data_dir)
    return KeyState(d, (d / SIG_FILE).exists(), (d / ENC_FILE).exists(),
                    (d / KEY_FILE).exists(), bool(os.environ.get(KEY_ENV, "").strip()))


def data_key_from_env() -> bytes | None:
    """SIEE_SERVER_DATA_KEY decoded (None when unset); StartupRefused when malformed."""
    text = os.environ.get(KEY_ENV, "").strip()
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise StartupRefused(
            "bad_data_key", f"{KEY_ENV} is not base64url of 32 bytes",
            "La variable SIEE_SERVER_DATA_KEY no es una clave de datos válida (debe ser "
            "el texto de 43 caracteres que imprime «siee-server keys --data-key-env»). "
            "Nada se abrió ni se escribió. Copie la clave completa, sin comillas ni "
            "espacios, en /etc/siee/server.env.")
    return raw


def data_key_file(data_dir: Path) -> bytes | None:
    """The data key file's 32 bytes (None when absent); StartupRefused when corrupt."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        return None
    raw = path.read_bytes()
    if len(raw) != 32:
        raise StartupRefused(
            "bad_data_key_file", f"{path} is not 32 bytes",
            f"El archivo de la clave de datos {path} está dañado (no tiene 32 bytes). "
            "Nada se abrió ni se escribió. Restáurelo desde la copia de seguridad de las "
            "claves.")
    return raw


def _sealed_samples(engine: Engine) -> list[tuple[str, str, str | bytes]]:
    """Up to one sealed value per table: (table, where, value), for the key check."""
    from server.batches import receipt_place
    from server.db import batches, devices, messages, records
    from server.messages import payload_place
    from server.records import answers_place

    out: list[tuple[str, str, str | bytes]] = []
    with engine.connect() as c:
        names = set(inspect(c).get_table_names())
        queries = [
            ("devices", select(devices.c.device_id, devices.c.label)
             .where(devices.c.label.like(PREFIX + "%")).limit(1),
             lambda r: (f"devices.label:{r[0]}", r[1])),
            ("records", select(records.c.uuid, records.c.revision, records.c.answers)
             .where(records.c.answers.like(PREFIX + "%")).limit(1),
             lambda r: (answers_place(r[0], r[1]), r[2])),
            ("messages", select(messages.c.device_id, messages.c.kind, messages.c.payload)
             .where(messages.c.payload.like(PREFIX + "%")).limit(1),
             lambda r: (payload_place(r[0], r[1]), r[2])),
        ]
        for table, q, where_of in queries:
            if table not in names:
                continue
            try:
                row = c.execute(q).first()
            except SQLAlchemyError:  # an older schema without the column: nothing sealed
                c.rollback()
                continue
            if row is not None:
                out.append((table, *where_of(row)))
        if "batches" in names:
            try:
                for bid, receipt in c.execute(select(batches.c.batch_id, batches.c.receipt)
                                              .limit(20)):
                    if bytes(receipt).startswith(BPREFIX):
                        out.append(("batches", receipt_place(bid), bytes(receipt)))
                        break
            except SQLAlchemyError:
                c.rollback()
    return out


def check_data_key(engine: Engine, data_dir: Path) -> None:
    """Refuse (StartupRefused) when the database holds sealed values and the data key
    (SIEE_SERVER_DATA_KEY, else server_data.key in `data_dir`) is missing or does not
    open them. Never creates a key. Errors reaching the database become Spanish
    StartupRefused too (database_error)."""
    env_key = data_key_from_env()
    key = env_key if env_key is not None else data_key_file(data_dir)
    try:
        samples = _sealed_samples(engine)
    except SQLAlchemyError as exc:
        raise database_error(engine.url.render_as_string(hide_password=False), exc) from exc
    if not samples:
        return
    where_key = ("la variable SIEE_SERVER_DATA_KEY" if env_key is not None
                 else f"el archivo {Path(data_dir) / KEY_FILE}")
    if key is None:
        raise StartupRefused(
            "data_key_missing", f"database holds sealed values; no data key in {data_dir}",
            f"La base de datos ya tiene datos cifrados, pero la carpeta de datos {data_dir} "
            "no tiene la clave de datos (server_data.key) y SIEE_SERVER_DATA_KEY no está "
            "definida: esta orden usa una carpeta equivocada. No se creó ninguna clave ni "
            "se escribió nada. Indique la carpeta del servidor con --data o SIEE_SERVER_DATA "
            "(p. ej. /var/lib/siee-server), o cargue /etc/siee/server.env.")
    sealer = Sealer(key)
    for table, where, value in samples:
        try:
            if isinstance(value, bytes):
                sealer.open_bytes(value, where)
            else:
                sealer.open(value, where)
        except (SealError, binascii.Error, ValueError) as exc:
            raise StartupRefused(
                "data_key_wrong", f"the data key does not open sealed values in {table}",
                f"La clave de datos ({where_key}) no abre los datos cifrados de esta base "
                "de datos: es la clave de otro servidor o de otra instalación. El servidor "
                "no arrancó y no se escribió nada, para no mezclar datos cifrados con dos "
                "claves. Ponga la clave de este servidor (la de la copia de seguridad de "
                "las claves; «siee-server keys --data-key-env» la imprime desde su archivo) "
                "o revise que --data/SIEE_SERVER_DATA y SIEE_DB sean los de este "
                "servidor.") from exc


def created_keys_notice(before: KeyState) -> str | None:
    """Spanish notice of the key files a command just created (None when none were)."""
    made = [f for f in before.missing() if (before.data_dir / f).exists()]
    if not made:
        return None
    return (f"Aviso: se crearon claves NUEVAS del servidor en {before.data_dir} "
            f"({', '.join(made)}), porque esa carpeta no las tenía. Si este servidor ya "
            "tenía claves en otra carpeta, esta orden usó la carpeta equivocada: indique "
            "--data o SIEE_SERVER_DATA (p. ej. /var/lib/siee-server). Si es una "
            "instalación nueva, copie las claves a un medio cifrado fuera del servidor.")


def new_sqlite_notice(db_file: Path | None, existed: bool) -> str | None:
    """Spanish notice when a command just created a new SQLite database file (no --db
    nor SIEE_DB, or a sqlite URL to a file that did not exist); None otherwise."""
    if db_file is None or existed or not db_file.exists():
        return None
    return (f"Aviso: se creó una base de datos SQLite NUEVA en {db_file}. Una sede central "
            "usa PostgreSQL: si esperaba su base, defina SIEE_DB (cargue "
            "/etc/siee/server.env, p. ej. con «sudo -u siee siee-admin …») o use --db.")


def sqlite_file_of(db_url: str) -> Path | None:
    """The SQLite file of `db_url` (None for other databases and for a URL that does not
    parse: the preflight then says why)."""
    from server.file_modes import sqlite_path

    try:
        return sqlite_path(db_url)
    except ArgumentError:
        return None
