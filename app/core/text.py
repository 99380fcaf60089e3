"""Text rules shared by every input and output: what a person types or pastes is
brought to one canonical form, and every file the program writes is well-formed.

One rule for characters XML 1.0 forbids (the C0 control characters other than tab,
line feed and carriage return, lone surrogates, U+FFFE and U+FFFF): they are
removed — from answers when they are typed (app.forms.session) and again from
every output (OpenRosa XML, JSON, CSV/XLSX exports, the constancia PDF), so older
stored data cannot break a file either. Barcode scanners send 0x1D (group
separator) between fields; removing it joins the fields, as the printed code reads.

Digits of any script (full-width `１２３`, Arabic-Indic, …) become ASCII digits.
No I/O here.
"""

from __future__ import annotations

import re
import unicodedata

# XML 1.0 (5th edition) production [2] Char, negated
_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (see the module docstring)."""
    if text.isascii() and text.isprintable():
        return text
    return _XML_FORBIDDEN.sub("", text)


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit of another script as its ASCII digit
    ('１２３４' -> '1234'); other characters unchanged."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and c.isdecimal() else c
                   for c in text)


def canonical_number_text(text: str) -> str:
    """NFKC form with ASCII digits and no surrounding spaces: what numeric and identifier
    input is checked, stored, indexed and compared as ('１２,５' -> '12,5')."""
    t = text.strip()
    if t.isascii():
        return t
    return ascii_digits(unicodedata.normalize("NFKC", t)).strip()


__all__ = ["ascii_digits", "canonical_number_text", "xml_safe"]
