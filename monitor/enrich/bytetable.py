"""Character classes through ``bytes.translate``: the fast path for mostly-ASCII text.

A regex substitution over a whole article is the slow part of tokenizing it;
a 256-byte translate table does the same for ASCII in one C call. Non-ASCII
code points are encoded as "?" and put back afterwards when they are letters
or digits, so the result equals the regex form on any text (checked against
it in tests/unit/test_core_fast_paths.py).
"""

from __future__ import annotations

# word characters (regex \w: alphanumeric or "_") kept, ASCII capitals lowered, the rest a space
WORD_TABLE = bytes((c | 0x20 if 65 <= c <= 90 else c) if chr(c).isalnum() or c == 95 else 32
                   for c in range(128)) + b" " * 128
# ASCII letters kept (capitals lowered), the rest a space
LETTER_TABLE = bytes((c | 0x20) if chr(c).isalpha() else 32 for c in range(128)) + b" " * 128


def translate_keeping_letters(text: str, table: bytes) -> str:
    """``text`` with each ASCII character mapped through ``table`` and each
    non-ASCII letter or digit kept as it is; other non-ASCII characters
    become what ``table`` maps "?" to. One character for one: offsets hold."""
    raw = text.encode("ascii", "replace")  # one "?" per non-ASCII code point
    out = raw.translate(table).decode("ascii")
    if text.isascii():
        return out
    pieces, pos = [], 0
    i = raw.find(b"?")
    while i != -1:
        c = text[i]
        if c.isalnum():  # a non-ASCII letter or digit ("?" itself is not)
            pieces += (out[pos:i], c)
            pos = i + 1
        i = raw.find(b"?", i + 1)
    pieces.append(out[pos:])
    return "".join(pieces)


def words(text: str) -> list[str]:
    """``re.findall(r"\\w+", text)`` with ASCII capitals lowered."""
    return translate_keeping_letters(text, WORD_TABLE).split()
