"""Build a PII evaluation set: planted values of every type (label 1) and number-heavy prompts without PII (0).

``python -m bench.guard_sets.pii OUT.jsonl``, then ``streamgate guards eval OUT.jsonl --guard pii``. Values are
generated (valid Luhn cards, checksummed IBANs, issuable SSNs, +CC and US phone formats, key formats), none real.
"""

from __future__ import annotations

import json
import random
import string
import sys
from pathlib import Path

_WRAPPERS = (
    "Please update my account: {v}.",
    "Hi, my details are {v}, can you check my last order?",
    "You can reach me at {v} after 5pm.",
    "Here it is: {v}",
    "The value is {v} - thanks for your help!",
)
_BENIGN = (
    "Order #{a}-{b} shipped on 2024-{m:02d}-{d:02d} and should arrive in {n} days.",
    "Upgrade from version {n}.{m}.{d} to {m}.{n}.0-rc{d} before Friday.",
    "The price is ${a}.{d:02d}, or {b} EUR for the bundle of {n}.",
    "Tracking code 1Z{a}AA{b}{d}, parcel {n} of {m}, {d}.5 kg.",
    "Invoice {a}-{b:04d} for ticket {b}, due in {n} days at {m:02d}:{d:02d}.",
    "Set limit={a} and offset={b}, timeout {n}s, retries {m}.",
    "We sold {a} units in Q{n} {b}, up {d}% on the year.",
    "Room {n}{d:02d}, floor {m}, booking ref {a}{b}.",
    "Build {a} failed at step {n}/{m} after {d} minutes.",
    "Chapter {n}, pages {a}-{b}, figure {m}.{d}.",
)


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = digit * 2 if i % 2 == 0 else digit
        total += value - 9 if value > 9 else value
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    bban = "".join(str(rng.randint(0, 9)) for _ in range(18))
    numeric = int(bban + "131400")  # DE00 -> D=13 E=14, check digits 00
    check = 98 - numeric % 97
    raw = f"DE{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def planted(rng: random.Random) -> list[str]:
    """One generated value of every type."""
    return [
        f"{_token(rng, 6, string.ascii_lowercase)}.{_token(rng, 4, string.ascii_lowercase)}@example.com",
        f"+44 20 7946 {rng.randint(1000, 9999)}",
        f"(415) 555-{rng.randint(1000, 9999)}",
        f"+49 30 {rng.randint(100000, 999999)}{rng.randint(10, 99)}",
        _luhn_card(rng),
        f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        _iban(rng),
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        f"sk-proj-{_token(rng, 40)}",
        f"sk-ant-api03-{_token(rng, 40)}",
        f"AKIA{_token(rng, 16, string.ascii_uppercase + string.digits)}",
        f"ghp_{_token(rng, 36)}",
        f"xoxb-{rng.randint(10**9, 10**10)}-{_token(rng, 12)}",
        f"-----BEGIN RSA PRIVATE KEY-----\n{_token(rng, 64)}\n-----END RSA PRIVATE KEY-----",
    ]


def build(out: Path, rounds: int = 15, seed: int = 3) -> None:
    """Write ``rounds`` planted prompts per type and ``rounds * 14`` number-heavy benign prompts."""
    rng = random.Random(seed)
    rows = []
    for _ in range(rounds):
        for value in planted(rng):
            rows.append({"text": rng.choice(_WRAPPERS).format(v=value), "label": 1})
        for _ in range(14):
            fill = {
                "a": rng.randint(100, 99999),
                "b": rng.randint(1000, 9999),
                "n": rng.randint(1, 9),
                "m": rng.randint(1, 12),
                "d": rng.randint(1, 28),
            }
            rows.append({"text": rng.choice(_BENIGN).format(**fill), "label": 0})
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    build(Path(sys.argv[1]))
