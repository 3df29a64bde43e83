"""Undo the encodings attacks hide behind, so the rules and the classifier can read what the model would.

Base64, base32, hex and binary runs are decoded when they decode to mostly printable text; percent-encoding
(``Ignore%20all``), ``\\u0049``-style escapes, Morse code and Unicode tag characters (invisible U+E0000 letters) are
read back; zero-width characters are dropped; leetspeak ("1gn0r3 pr3v10us") is mapped back to letters. Each decoded
variant is scanned like the original. ROT13 and reversed text cannot be told from ordinary text cheaply, so every
text's ROT13 and reversed readings go through the rules only (a few substring tests each when nothing matches); the
classifier reads the ROT13 reading too when the text names the cipher.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import urllib.parse

_B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4}){4,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_HEX_RE = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){8,}\b")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
# A leet character between two letters ("1gn0re", "pr3v10us"); a digit run at a word's end ("SPRING42") is not.
_LEET_WORD_RE = re.compile(r"[a-z][013457@$]+[a-z]", re.IGNORECASE)
MAX_VARIANTS = 4
_B32_RE = re.compile(r"\b[A-Z2-7]{24,}=*")
_BINARY_RE = re.compile(r"(?:\b[01]{8}\b\s?){6,}")
_PERCENT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
_ESCAPE_RE = re.compile(r"(?:\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}){6,}")
_MORSE_RE = re.compile(r"(?:[.\-]{1,6}[ /]+){8,}[.\-]{1,6}")
_TAG_RE = re.compile("[\U000e0020-\U000e007e]{4,}")
_ZERO_WIDTH_RE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_MORSE = {
    ".-": "a",
    "-...": "b",
    "-.-.": "c",
    "-..": "d",
    ".": "e",
    "..-.": "f",
    "--.": "g",
    "....": "h",
    "..": "i",
    ".---": "j",
    "-.-": "k",
    ".-..": "l",
    "--": "m",
    "-.": "n",
    "---": "o",
    ".--.": "p",
    "--.-": "q",
    ".-.": "r",
    "...": "s",
    "-": "t",
    "..-": "u",
    "...-": "v",
    ".--": "w",
    "-..-": "x",
    "-.--": "y",
    "--..": "z",
}


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(ch.isalpha() or ch == " " for ch in text)
    return text if len(text) >= 8 and letters >= 0.7 * len(text) else None


def decoded_variants(text: str) -> list[str]:
    """Decoded readings of ``text``: base64 and hex payloads, and a de-leeted copy when it has leetspeak words."""
    variants: list[str] = []
    for match in _B64_RE.finditer(text):
        try:
            decoded = _printable(base64.b64decode(match.group(0), validate=True))
        except (binascii.Error, ValueError):
            decoded = None
        if decoded:
            variants.append(decoded)
    for match in _HEX_RE.finditer(text):
        try:
            decoded = _printable(bytes.fromhex(re.sub(r"[ :]", "", match.group(0))))
        except ValueError:
            decoded = None
        if decoded:
            variants.append(decoded)
    if len(_LEET_WORD_RE.findall(text)) >= 2:
        variants.append(text.translate(_LEET))
    variants.extend(_other_encodings(text))
    return variants[:MAX_VARIANTS]


def _other_encodings(text: str) -> list[str]:
    """Base32, binary, percent-encoding, escapes, Morse, tag characters and zero-width padding (each tested by a
    substring or one regex first: ordinary text pays a few scans)."""
    out: list[str] = []
    for match in _B32_RE.finditer(text):
        try:
            raw = base64.b32decode(match.group(0) + "=" * (-len(match.group(0)) % 8))
        except (binascii.Error, ValueError):
            continue
        if decoded := _printable(raw):
            out.append(decoded)
    for match in _BINARY_RE.finditer(text) if "01" in text else ():
        if decoded := _printable(bytes(int(bits, 2) for bits in match.group(0).split())):
            out.append(decoded)
    if "%" in text and len(_PERCENT_RE.findall(text)) >= 3:
        out.append(urllib.parse.unquote(text))
    if "\\" in text:
        for match in _ESCAPE_RE.finditer(text):
            if decoded := _printable(match.group(0).encode().decode("unicode_escape", "ignore").encode()):
                out.append(decoded)
    if "-" in text and "." in text:
        for match in _MORSE_RE.finditer(text):
            words = match.group(0).split("/")
            decoded = " ".join("".join(_MORSE.get(code, "") for code in word.split()) for word in words)
            if len(decoded.replace(" ", "")) >= 8:
                out.append(decoded)
    for match in _TAG_RE.finditer(text):
        out.append("".join(chr(ord(ch) - 0xE0000) for ch in match.group(0)))
    if _ZERO_WIDTH_RE.search(text):
        out.append(_ZERO_WIDTH_RE.sub("", text))
    return out


_CIPHER_WORDS = ("rot13", "rot-13", "rot 13", "caesar", "rotate each letter")


def rule_only_variants(text: str) -> list[str]:
    """The ROT13 and the reversed reading of ``text`` (normalised text gives normalised readings), for the rules."""
    return [codecs.encode(text, "rot13"), text[::-1]]


def names_a_cipher(text: str) -> bool:
    """Whether ``text`` mentions ROT13 or a Caesar shift (then its ROT13 reading is worth classifying)."""
    lowered = text.lower()
    return any(word in lowered for word in _CIPHER_WORDS)
