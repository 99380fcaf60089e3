"""Server configuration: where data lives and the limits it enforces."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

MiB = 1 << 20


def default_data_dir() -> Path:
    env = os.environ.get("SIEE_SERVER_DATA")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("siee-server", appauthor=False))


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'siee-server.db'}"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    db_url: str = ""  # empty: a SQLite file in data_dir
    max_batch_bytes: int = 8 * MiB  # envelope size on the wire
    max_plain_bytes: int = 64 * MiB  # records once decompressed
    max_records: int = 250  # records per batch (≈ 2.5 s of validation at 100 records/s)
    max_json_bytes: int = 64 * 1024  # JSON request bodies (enrollment), inbox request files
    max_form_bytes: int = 16 * MiB  # an XLSForm to publish
    rate_per_minute: int = 120  # signed requests per device per minute
    timestamp_window: int = 300  # seconds either side of the server clock
    enroll_code_hours: int = 72  # validity of a new enrollment code
    inbox_page: int = 200  # max messages per inbox page
    enroll_per_address: int = 10  # enrollment attempts per client address per minute
    enroll_per_minute: int = 120  # enrollment attempts per minute, all addresses together
    max_inflight_ingest: int = 1  # batches being validated/stored at once, per process
    max_waiting_ingest: int = 64  # batches waiting for a slot, per process (then 503)
    max_queue_wait: float = 10.0  # seconds a batch may wait for a slot (then 503)
    max_inflight_requests: int = 256  # requests being served at once, per process

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if not self.db_url:
            object.__setattr__(self, "db_url", default_db_url(self.data_dir))

    def with_(self, **kw: object) -> Settings:
        return replace(self, **kw)  # type: ignore[arg-type]

    def to_env(self) -> str:
        """These settings as JSON, for worker processes (see from_env)."""
        d = asdict(self)
        d["data_dir"] = str(self.data_dir)
        return json.dumps(d)

    @classmethod
    def from_env(cls, text: str) -> Settings:
        """Settings from to_env's JSON (unknown keys ignored)."""
        raw = json.loads(text)
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})

    def limits(self) -> dict[str, int]:
        """What clients are told at enrollment and in health."""
        return {
            "max_batch_bytes": self.max_batch_bytes,
            "max_records": self.max_records,
            "rate_per_minute": self.rate_per_minute,
            "timestamp_window": self.timestamp_window,
        }
