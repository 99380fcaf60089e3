"""docs/protocol.md §6, cases (issue 15): `case_uuid` is an optional tenth field of a
record. A record without it keeps exactly the bytes and content hash of protocol v1
before cases; one with it is hashed over it; a null or malformed value is refused."""

from __future__ import annotations

import pytest

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from tests.sync.test_protocol import make_record

CASE = "5f0c3b7e-4a8d-4c1e-9b2a-0d6e7f8a9b10"


def test_records_without_a_case_keep_their_bytes():
    rec = make_record()
    d = rec.to_dict()
    assert "case_uuid" not in d and set(d) == set(p.BatchRecord.FIELDS)
    assert rec.canonical() == p.canonical_json({k: d[k] for k in p.BatchRecord.FIELDS})
    assert p.BatchRecord.from_dict(d).content_hash() == rec.content_hash()


def test_a_case_is_part_of_the_content():
    plain = make_record()
    member = make_record(uuid=plain.uuid, case_uuid=CASE)
    assert member.to_dict()["case_uuid"] == CASE
    assert member.content_hash() != plain.content_hash()
    back = p.BatchRecord.from_dict(member.to_dict())
    assert back.case_uuid == CASE and back.content_hash() == member.content_hash()


@pytest.mark.parametrize("bad", [None, "not-a-uuid", CASE.upper(), 7])
def test_a_bad_case_is_refused(bad):
    d = {**make_record().to_dict(), "case_uuid": bad}
    with pytest.raises(ProtocolError) as e:
        p.BatchRecord.from_dict(d)
    assert e.value.code == "malformed_envelope"


def test_unknown_fields_are_still_refused():
    d = {**make_record().to_dict(), "case": CASE}
    with pytest.raises(ProtocolError):
        p.BatchRecord.from_dict(d)
