"""PII redaction over a streamed answer: a sliding window that never lets part of a value out.

The answer arrives in pieces; a value (a phone number, a card, a key) may be split across them. The window
releases text only up to a *cut* that no value can straddle:

- at least ``window`` characters before the end of what has arrived: a value that starts before the cut and is
  at most ``window`` long has arrived whole, so the recognizers see it (values with spaces in them, such as
  phone and card numbers or an IBAN, are well under 64 characters);
- right after a whitespace character: a value without spaces (an email, a key, a token) is released only once
  it has ended, however long it is;
- before any value found across the cut, and before an unclosed private-key block.

Each release runs the output PII guard's recognizers on the pending text plus ``window`` characters of released
text before it (left context), and replaces what they find exactly as the whole-answer guard does
(``<EMAIL_ADDRESS>``). Under ``block`` the first value found stops the stream: nothing more is released. At the
end of the answer :meth:`RedactionWindow.close` releases the rest. Scans run once ``window`` characters and a
step are pending (not on every piece): the first step is a quarter window, so the first text is out once
``1.25 x window`` characters arrived (80 by default); later ones a whole window, so a long answer is scanned
about once per ``window`` characters (~3 ms of CPU per KB).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from guards.pii.finding import Finding

Find = Callable[[str], Sequence[Finding]]
_KEY_OPEN = "-----BEGIN"
_KEY_CLOSE = re.compile(r"-----END [A-Z0-9 ]*-----")  # a whole closing line: a partial one does not close


class RedactionWindow:
    """The PII window of one streamed answer (see the module docstring)."""

    def __init__(self, find: Find, *, window: int, block: bool) -> None:
        self._find = find
        self._window = window
        self._block = block
        self._raw = ""
        self._done = 0  # the raw text before this offset has been released (redacted)
        self.entities: Counter[str] = Counter()
        self.blocked = False

    def feed(self, delta: str) -> str:
        """Take the next piece of the answer; return the redacted text that is now safe to release."""
        if self.blocked:
            return ""
        self._raw += delta
        # The first release waits for a quarter window past the window (time to first chunk), later ones for a
        # whole one (one scan per window of text).
        step = self._window if self._done else self._window // 4
        if len(self._raw) - self._done < self._window + step:
            return ""
        return self._release(final=False)

    def close(self) -> str:
        """The answer ended: release (redacted) whatever is still held."""
        return "" if self.blocked else self._release(final=True)

    def _release(self, *, final: bool) -> str:
        raw, done = self._raw, self._done
        left = max(0, done - self._window)
        findings = [
            Finding(f.entity, f.start + left, f.end + left) for f in self._find(raw[left:]) if f.end + left > done
        ]
        cut = len(raw) if final else self._cut(findings)
        released = [f for f in findings if f.start < cut]
        if released and self._block:
            self.entities.update(f.entity for f in released)
            self.blocked = True
            return ""
        if cut <= done:
            return ""
        parts: list[str] = []
        at = done
        for finding in released:
            parts.append(raw[at : max(at, finding.start)])
            parts.append(f"<{finding.entity}>")
            at = finding.end
            self.entities[finding.entity] += 1
        parts.append(raw[at:cut])
        self._done = cut
        return "".join(parts)

    def _cut(self, findings: Sequence[Finding]) -> int:
        """The furthest offset that may be released now (``self._done`` when nothing may)."""
        raw, done = self._raw, self._done
        cut = len(raw) - self._window
        while cut > done:
            moved = cut
            while moved > done and not raw[moved - 1].isspace():
                moved -= 1
            for finding in findings:
                if finding.start < moved < finding.end:
                    moved = finding.start
            opened = raw.rfind(_KEY_OPEN, done, moved)
            if opened >= 0 and _KEY_CLOSE.search(raw, opened) is None:
                moved = opened
            if moved == cut:
                break
            cut = moved
        return max(cut, done)


class PassWindow:
    """A stream whose output guard lets everything through (``pii_output = "allow"``)."""

    entities: Counter[str]
    blocked = False

    def __init__(self) -> None:
        self.entities = Counter()

    def feed(self, delta: str) -> str:
        """Release ``delta`` at once."""
        return delta

    def close(self) -> str:
        """Nothing is held."""
        return ""
