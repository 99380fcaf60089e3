"""OpenRosa XML instance of a FormSession (what ODK tools call a submission)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from app.core.text import xml_safe
from app.forms.xpath import Node

if TYPE_CHECKING:
    from app.forms.session import FormSession

ORX_NS = "http://openrosa.org/xforms"


def to_xml(session: FormSession, instance_id: str) -> str:
    """The instance as XML: non-relevant nodes left out, notes left out,
    meta/instanceID set to `uuid:<instance_id>` (the prefix is added if missing).
    Characters XML 1.0 forbids are removed (app.core.text.xml_safe), so the result is
    well-formed whatever was stored."""
    fd = session.formdef
    root = ET.Element(fd.root.name, {"id": fd.form_id, "version": fd.version})
    for child in session.root.children:
        _emit(child, root)
    meta = ET.SubElement(root, "meta")
    iid = ET.SubElement(meta, "instanceID")
    instance_id = xml_safe(instance_id)
    iid.text = instance_id if instance_id.startswith("uuid:") else f"uuid:{instance_id}"
    ET.indent(root, space="  ")
    return "<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode")


def _emit(node: Node, parent: ET.Element) -> None:
    if not node.relevant:
        return
    nd = node.defn
    if nd is not None and nd.kind == "question" and nd.type == "note":
        return
    el = ET.SubElement(parent, node.name)
    if node.children:
        for c in node.children:
            _emit(c, el)
    elif nd is not None and nd.kind == "question":
        el.text = xml_safe(node.value) or None
