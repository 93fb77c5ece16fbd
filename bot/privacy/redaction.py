"""Mask payment cards, IBANs, e-mail addresses and phone numbers in player messages.

The masks are the same in every language (``[card ****1111]``, ``[iban]``, ``[email]``, ``[phone]``) so that
downstream code and human agents recognise them; everything outside a masked span is returned unchanged.

Finding and deciding are separate. The regular expressions only propose candidates. Each can start only at the
beginning of a token (a look-behind), and a repetition that could split the same characters in more than one way
is possessive or bounded, so the scan stays linear even on hostile input (10,000 digits or '@'s). The decision
is made in Python with the real rules: Luhn for cards, ISO 13616 mod-97 and the national length for IBANs, and
numbering-plan shapes for phone numbers. That is what keeps amounts, dates, ids and bonus codes out.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

CARD = "card"
IBAN = "iban"
EMAIL = "email"
PHONE = "phone"

IBAN_MASK = "[iban]"
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"


@dataclass(frozen=True)
class Redaction:
    """The masked text and what was masked (``card``, ``iban``, ``email``, ``phone``) in order of appearance."""

    text: str
    kinds: tuple[str, ...]


# Separators inside a number: spaces (no-break and narrow no-break too, as pasted from banking apps) and dashes.
_SP = r"[ \u00a0\u2007\u202f]"
_DASH = r"[-\u2010\u2011\u2012\u2013]"
_SEPARATORS = frozenset(" \u00a0\u2007\u202f-\u2010\u2011\u2012\u2013")


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("<SP>", _SP).replace("<DASH>", _DASH), re.VERBOSE)


# Anything that can be masked contains an ASCII digit or an '@': texts without one are returned at once.
_TRIGGER_RE = re.compile(r"[0-9@]")

_CARD_RE = _compile(
    r"""
    (?<![\w@+])(?<![0-9][.,:/])          # a token start, not the tail of 1.5, 12/27 or a word
    (?:
        [1-9][0-9]{12,18}                # 4111111111111111 (issuers never start a card number with 0)
      | [1-9][0-9]{3}(?P<sep><SP>|<DASH>)  # grouped with one separator throughout:
        (?:[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)(?:[0-9]{4}(?P=sep)[0-9]{1,3}|[0-9]{1,4})  # 4-4-4-4[-3], 4-4-4-1..4
          |[0-9]{6}(?P=sep)[0-9]{4,5})   # 4-6-5 (Amex), 4-6-4 (Diners)
    )
    (?![\w@])(?![.,:/][0-9])
    """
)

_IBAN_RE = _compile(
    r"""
    (?<![\w@])
    [A-Za-z]{2}[0-9]{2}                  # country code and check digits
    (?:<SP>?[A-Za-z0-9]{4}){2,8}         # groups of four, or the same characters unspaced
    (?:<SP>?[A-Za-z0-9]{1,4})?
    (?![\w@])
    """
)
_ALNUM_RE = re.compile(r"[A-Za-z0-9]+")
_IBAN_DIGITS = str.maketrans({ch: str(int(ch, 36)) for ch in string.ascii_letters})
_IBAN_LENGTHS = {"FI": 18, "SE": 24, "TR": 26, "GB": 22, "DE": 22, "NO": 15, "DK": 18, "EE": 20, "LV": 21, "LT": 20}

_EMAIL_RE = _compile(
    r"""
    (?<![\w.%+@-])                       # not inside another address or word
    [\w.%+-]++@                          # local part (possessive: it cannot contain the '@' anyway)
    (?:[^\W_][\w-]*+\.)+                 # domain labels
    [^\W\d_]{2,}+                        # top-level domain: letters only
    (?![\w@])
    """
)

# A run of digit groups joined by single separators, optionally led by '+'; phones are looked for inside it.
_PHONE_RUN_RE = _compile(
    r"""
    (?:(?<![\w@+])\+<SP>?|(?<![\w@+])(?<![0-9][.,:/]))  # '+' always starts a number; digits not after 1.5
    (?:\([0-9]{1,6}\)|[0-9]++)
    (?:(?:<SP>?<DASH><SP>?|<SP>|(?<=\))|(?=\())(?:\([0-9]{1,6}\)|[0-9]++))*
    (?![\w@])(?![.,:/][0-9])
    """
)
_GROUP_RE = re.compile(r"\(([0-9]+)\)|([0-9]+)")
_PLAIN_SPACE_RE = re.compile(_SP)
_NON_DIGIT_RE = re.compile(r"[^0-9]")
_MAX_PHONE_GROUPS = 7  # "+7 (912) 345-67-89" has six
_MAX_ROUNDS = 8


class _Spans:
    """Sorted, non-overlapping ``[start, end)`` spans with logarithmic look-ups."""

    def __init__(self, spans: list[tuple[int, int]] | None = None) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in spans or ():
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        i = bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, end)
        return i > 0 and self.ends[i - 1] > start

    def contains(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start)
        return i > 0 and self.ends[i - 1] >= end


def _card_mask(digits: str) -> str:
    """Agents and players refer to a card by its last four digits, so those stay visible."""
    return f"[card ****{digits[-4:]}]"


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(m: re.Match[str]) -> tuple[int, int, str] | None:
    raw = m.group()
    digits = _NON_DIGIT_RE.sub("", raw)
    if _luhn(digits):
        return m.start(), m.end(), digits
    sep = m.group("sep")
    if len(digits) > 16 and sep and raw.count(sep) == 4 and _luhn(digits[:16]):
        # "4111 1111 1111 1111 123": the fifth group may be a CVV or a count, not part of the number.
        return m.start(), m.start() + raw.rfind(sep), digits[:16]
    return None


def _cards(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    pos = 0
    while m := _CARD_RE.search(text, pos):
        start = m.start()
        # Not in the middle of a longer digit sequence ("0123 4111 1111 1111 1111"), unless what comes before is
        # the card just found ("4111 1111 1111 1111 5555 5555 5555 4444").
        inside = start >= 2 and text[start - 1] in _SEPARATORS and "0" <= text[start - 2] <= "9"
        if not (inside and not (found and found[-1][1] == start - 1)) and (card := _card(m)):
            found.append(card)
            pos = card[1]
        else:
            # A rejected candidate must not hide a card that starts inside it, so the search resumes right after
            # its start; candidates are at most 23 characters long, so this stays linear.
            pos = start + 1
    return found


def _iban_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters become 10..35, the number mod 97 is 1."""
    return int((iban[4:] + iban[:4]).translate(_IBAN_DIGITS)) % 97 == 1


def _iban_end(m: re.Match[str]) -> int | None:
    """End of the valid IBAN at the start of the candidate, if there is one.

    The candidate may have swallowed a following word ("... 7466 tili"), so each prefix that ends at a group
    boundary is tried, longest first; only well-formed ones count (unspaced, or every group but the last has
    four characters).
    """
    raw = m.group()
    check = int(raw[2:4])
    if not 2 <= check <= 98:  # the check digits of a real IBAN are 02..98
        return None
    want = _IBAN_LENGTHS.get(raw[:2].upper())
    compact = ""
    ends: list[tuple[int, int]] = []  # (length of the prefix, where it ends in the text)
    for run in _ALNUM_RE.finditer(raw):
        compact += run.group()
        ends.append((len(compact), m.start() + run.end()))
        if len(run.group()) != 4:  # only the last group may be shorter or longer
            break
    for length, end in reversed(ends):
        if (length == want if want else 15 <= length <= 34) and _iban_ok(compact[:length]):
            return end
    return None


def _ibans(text: str) -> list[tuple[int, int]]:
    found = []
    pos = 0
    while m := _IBAN_RE.search(text, pos):
        if end := _iban_end(m):  # as in _cards, a rejected candidate must not hide the next word
            found.append((m.start(), end))
            pos = end
        else:
            pos = m.start() + 1
    return found


_Group = tuple[int, int, str, bool]  # start, end, digits, written in parentheses


def _looks_like_date(sizes: list[int]) -> bool:
    """03-05-2025 10, 2025-03-05 040...: a date followed by more digits must not become a phone number."""
    return len(sizes) >= 3 and ((sizes[0] <= 2 and sizes[1] <= 2 and sizes[2] == 4) or sizes[:3] == [4, 2, 2])


def _is_phone(window: list[_Group], plus: bool, previous: _Group | None) -> bool:
    digits = "".join(g[2] for g in window)
    n = len(digits)
    if plus:  # E.164: at most 15 digits, country codes never start with 0
        return 9 <= n <= 15 and digits[0] != "0"
    sizes = [len(g[2]) for g in window]
    first, first_in_parentheses = window[0][2], window[0][3]
    if not any(g[3] for g in window[:3]) and _looks_like_date(sizes):
        return False
    if previous is not None and len(previous[2]) <= 3 and all(size == 3 for size in sizes):
        return False  # "1 050 000 000": the continuation of thousands grouping
    if digits.startswith("00"):  # 00358 40 123 4567: international call prefix
        return first.startswith("00") and 11 <= n <= 17 and digits[2] != "0"
    if digits[0] == "0":  # national trunk prefix (FI, SE, TR, UK): at most 11 digits in all of them
        return 9 <= n <= 11
    if n == 11 and digits[0] == "8" and digits[1] in "3489":  # Russia: 8 (912) 345-67-89, 89123456789
        if len(window) == 1 or (first == "8" and not first_in_parentheses):
            return True
    # North America: (212) 555-0198, 212-555-0198, 1 800 555 0199; always grouped, so bare ids never match.
    if n == 10 and sizes == [3, 3, 4] and digits[0] in "23456789" and digits[3] in "23456789":
        return True
    return n == 11 and sizes == [1, 3, 3, 4] and digits[0] == "1" and digits[1] in "23456789"


def _phones(text: str, taken: _Spans) -> list[tuple[int, int]]:
    found = []
    for run in _PHONE_RUN_RE.finditer(text):
        if run.end() - run.start() < 9:  # fewer than the nine digits of the shortest number accepted below
            continue
        groups: list[_Group] = [
            (g.start(), g.end(), g.group(1) or g.group(2), g.group(1) is not None)
            for g in _GROUP_RE.finditer(text, run.start(), run.end())
        ]
        n = len(groups)
        free = [not taken.overlaps(g[0], g[1]) for g in groups]
        # A phone number may start or end only at an edge of the run, next to a masked span, or at a plain space
        # between groups: never in the middle of 070-123 45 67 or of a longer dash-joined number.
        edge = [True] * (n + 1)
        for k in range(1, n):
            sep = text[groups[k - 1][1] : groups[k][0]]
            edge[k] = not (free[k - 1] and free[k]) or bool(_PLAIN_SPACE_RE.fullmatch(sep))
        counts = [0]
        for g in groups:
            counts.append(counts[-1] + len(g[2]))
        plus = text[run.start()] == "+"
        i = 0
        while i < n:
            match = 0
            if free[i] and edge[i]:
                stop = i
                while stop < n and stop - i < _MAX_PHONE_GROUPS and free[stop]:
                    stop += 1
                previous = groups[i - 1] if i > 0 and free[i - 1] else None
                for j in range(stop, i, -1):
                    count = counts[j] - counts[i]
                    if count < 9:
                        break
                    if count <= 17 and edge[j] and _is_phone(groups[i:j], plus and i == 0, previous):
                        match = j
                        break
            if match:
                found.append((run.start() if plus and i == 0 else groups[i][0], groups[match - 1][1]))
                i = match
            else:
                i += 1
    return found


def _find(text: str) -> list[tuple[int, int, str, str]]:
    """Spans to mask as ``(start, end, kind, replacement)``, sorted and non-overlapping."""
    taken = _Spans()
    cards = _cards(text)
    ibans = _ibans(text)
    emails = [m.span() for m in _EMAIL_RE.finditer(text)] if "@" in text else []
    # Precedence is card, iban, email, phone, except that digits inside a valid IBAN or an e-mail address
    # belong to it ("GB82 WEST 1234 5698 7654 32" holds a 14-digit group that may pass Luhn).
    containers = (_Spans(ibans), _Spans(emails))
    found: list[tuple[int, int, str, str]] = []
    candidates = [
        (start, end, CARD, _card_mask(digits))
        for start, end, digits in cards
        if not any(spans.contains(start, end) for spans in containers)
    ]
    candidates += [(start, end, IBAN, IBAN_MASK) for start, end in ibans]
    candidates += [(start, end, EMAIL, EMAIL_MASK) for start, end in emails]
    for start, end, kind, replacement in candidates:
        if not taken.overlaps(start, end):
            taken.add(start, end)
            found.append((start, end, kind, replacement))
    found += [(start, end, PHONE, PHONE_MASK) for start, end in _phones(text, taken)]
    found.sort()
    return found


def _replace(
    text: str, found: list[tuple[int, int, str, str]], added: list[tuple[int, str]]
) -> tuple[str, list[tuple[int, str]]]:
    """Apply one round of masks; ``added`` (offsets of earlier masks) is moved along with the text."""
    pieces: list[str] = []
    moved: list[tuple[int, str]] = []
    earlier = iter(added)
    pending = next(earlier, None)
    pos = delta = 0
    for start, end, kind, replacement in found:
        while pending is not None and pending[0] < start:  # earlier masks are never inside a new span
            moved.append((pending[0] + delta, pending[1]))
            pending = next(earlier, None)
        pieces += (text[pos:start], replacement)
        moved.append((start + delta, kind))
        delta += len(replacement) - (end - start)
        pos = end
    while pending is not None:
        moved.append((pending[0] + delta, pending[1]))
        pending = next(earlier, None)
    pieces.append(text[pos:])
    return "".join(pieces), moved


def redact(text: str) -> Redaction:
    """Mask payment cards, IBANs, e-mail addresses and phone numbers; keep every other character as it was."""
    if not _TRIGGER_RE.search(text):
        return Redaction(text, ())
    added: list[tuple[int, str]] = []  # (offset in the current text, kind) of the masks this call added
    # A mask changes the neighbourhood of what follows it (a digit becomes ']'), so a number glued to a masked
    # one by punctuation ("4111111111111111:+358 40 123 4567") is only seen in the next round. Rounds repeat
    # until nothing changes, which makes redacting the result again a no-op; the bound keeps the time linear
    # on texts built as long chains of glued items and is far above what real messages need (one round and
    # the check that nothing is left).
    for _ in range(_MAX_ROUNDS):
        found = _find(text)
        if not found:
            break
        text, added = _replace(text, found, added)
    return Redaction(text, tuple(kind for _, kind in added))
