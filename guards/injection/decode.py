"""Undo the encodings attacks hide behind, so the rules and the classifier can read what the model would.

Base64 and hex runs are decoded when they decode to mostly printable text; leetspeak ("1gn0r3 pr3v10us") is mapped
back to letters. Each decoded variant is scanned like the original. ROT13 and reversed text cannot be told from
ordinary text cheaply, so every text's ROT13 and reversed readings go through the rules only (a few substring
tests each when nothing matches); the classifier reads the ROT13 reading too when the text names the cipher.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

_B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4}){4,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_HEX_RE = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){8,}\b")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
# A leet character between two letters ("1gn0re", "pr3v10us"); a digit run at a word's end ("SPRING42") is not.
_LEET_WORD_RE = re.compile(r"[a-z][013457@$]+[a-z]", re.IGNORECASE)
MAX_VARIANTS = 4


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
    return variants[:MAX_VARIANTS]


_CIPHER_WORDS = ("rot13", "rot-13", "rot 13", "caesar", "rotate each letter")


def rule_only_variants(text: str) -> list[str]:
    """The ROT13 and the reversed reading of ``text`` (normalised text gives normalised readings), for the rules."""
    return [codecs.encode(text, "rot13"), text[::-1]]


def names_a_cipher(text: str) -> bool:
    """Whether ``text`` mentions ROT13 or a Caesar shift (then its ROT13 reading is worth classifying)."""
    lowered = text.lower()
    return any(word in lowered for word in _CIPHER_WORDS)
