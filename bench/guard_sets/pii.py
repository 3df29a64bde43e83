"""Build a PII evaluation set: planted values of every type (label 1) and number-heavy prompts without PII (0).

``python -m bench.guard_sets.pii OUT.jsonl``, then ``streamgate guards eval OUT.jsonl --guard pii``. Values are
generated (valid Luhn cards of several brands and groupings, checksummed IBANs of several countries, issuable SSNs,
US and +CC phone formats, IPv4/IPv6, key formats), none real. Each planted row carries its ``value``: the eval
counts it as leaked when any 4-character run of it survives redaction. Benign rows are full of numbers that are
no PII (order ids, dates, times, versions, prices, tracking codes, ISBNs, invoice and serial numbers).
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
    "Meeting moved to {m:02d}/{d:02d}/2025 at {n}:30 pm, room B{b}.",
    "Please ship order #{a}-{b}-{d:02d} by {d} March; it weighs {n}.{m} lb.",
    "Our API v{n}.{m}.{d} returns HTTP {a} when the payload exceeds {b} KB.",
    "Total: $1,{b}.{d:02d} incl. tax; subtotal ${a}.{m:02d}, shipping $4.99.",
    "FedEx tracking {b} {a:05d} {b}, expected {m:02d}-{d:02d}.",
    "ISBN 978-{n}-{b}-{a:05d}-{n}, printed {b}, edition {m}.",
    "Invoice INV-2024-{a:05d} of {d}.{m:02d}.2024 for contract C-{b}.",
    "Serial SN{b}X{a}, firmware {n}.{m}.{d}, batch {a}-{m}.",
    "Flight LH{b} leaves at {n}:{d:02d} from gate {m}{n}, seat {d}C.",
    "Ticket #{a} was merged into #{b}; see build {a}.{b} and PR {d}{m}.",
    "GPS 48.{a} N, 2.{b} E, elevation {a} m, {d} km from base.",
    "Set the heap to {b} MB, {n} workers, port 80{d:02d}, and retry after {a} ms.",
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


def _card(rng: random.Random, prefix: str, length: int, groups: tuple[int, ...], sep: str) -> str:
    digits = [int(c) for c in prefix] + [rng.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = digit * 2 if i % 2 == 0 else digit
        total += value - 9 if value > 9 else value
    raw = "".join(map(str, digits)) + str((10 - total % 10) % 10)
    parts, at = [], 0
    for size in groups:
        parts.append(raw[at : at + size])
        at += size
    return sep.join(parts)


def _iban_of(rng: random.Random, country: str, length: int, bank_letters: int = 0) -> str:
    bank = "".join(rng.choice(string.ascii_uppercase) for _ in range(bank_letters))
    bban = bank + "".join(str(rng.randint(0, 9)) for _ in range(length - 4 - bank_letters))
    letters = "".join(str(ord(c) - 55) for c in country)
    numeric = "".join(c if c.isdigit() else str(ord(c) - 55) for c in bban)
    check = 98 - int(numeric + letters + "00") % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _ssn_shape(rng: random.Random) -> str:
    """A published sample SSN, or one in a high area written with spaces."""
    high = f"{rng.randint(667, 899)} {rng.randint(10, 99)} {rng.randint(1000, 9999)}"
    return rng.choice(("123-45-6789", "078-05-1120", high))


def planted(rng: random.Random) -> list[str]:
    """One generated value of every format."""
    word = string.ascii_lowercase
    return [
        f"{_token(rng, 6, word)}.{_token(rng, 4, word)}@example.com",
        f"{_token(rng, 5, word)}+{_token(rng, 3, word)}@mail.{_token(rng, 5, word)}.co.uk",
        f"+44 20 7946 {rng.randint(1000, 9999)}",
        f"(415) 555-{rng.randint(1000, 9999)}",
        f"415.555.{rng.randint(1000, 9999)}",
        f"+1 212-555-{rng.randint(1000, 9999)}",
        f"({rng.randint(200, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",  # often unassigned
        f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        f"+49 30 {rng.randint(100000, 999999)}{rng.randint(10, 99)}",
        f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        f"+91 98{rng.randint(100, 999)} {rng.randint(10000, 99999)}",
        _luhn_card(rng),
        _card(rng, f"5{rng.randint(1, 5)}", 16, (4, 4, 4, 4), "-"),
        _card(rng, "37", 15, (4, 6, 5), " "),
        _card(rng, "4", 16, (16,), ""),
        f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        _ssn_shape(rng),
        _iban(rng),
        _iban_of(rng, "GB", 22, bank_letters=4),
        _iban_of(rng, "FR", 27),
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        f"2001:db8:{rng.randint(0, 0xFFFF):x}:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}",
        f"sk-proj-{_token(rng, 40)}",
        f"sk-ant-api03-{_token(rng, 40)}",
        f"AKIA{_token(rng, 16, string.ascii_uppercase + string.digits)}",
        f"aws_secret_access_key = {_token(rng, 40, string.ascii_letters + string.digits + '/+')}",
        f"my AWS secret is {_token(rng, 20)}/{_token(rng, 19)}",
        f"ghp_{_token(rng, 36)}",
        f"github_pat_{_token(rng, 50, string.ascii_letters + string.digits + '_')}",
        f"xoxb-{rng.randint(10**9, 10**10)}-{_token(rng, 12)}",
        f"sk_live_{_token(rng, 24)}",
        f"glpat-{_token(rng, 20)}",
        f"AIza{_token(rng, 35)}",
        f"hf_{_token(rng, 34)}",
        f"eyJ{_token(rng, 20)}.eyJ{_token(rng, 30)}.{_token(rng, 43)}",
        f"-----BEGIN RSA PRIVATE KEY-----\n{_token(rng, 64)}\n-----END RSA PRIVATE KEY-----",
    ]


def build(out: Path, rounds: int = 15, seed: int = 3) -> None:
    """Write ``rounds`` planted prompts per format and as many number-heavy benign prompts."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for _ in range(rounds):
        values = planted(rng)
        for value in values:
            rows.append({"text": rng.choice(_WRAPPERS).format(v=value), "label": 1, "value": value})
        for _ in range(len(values)):
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
