"""A labelled evaluation set: real corpus messages with personal data and decoys planted.

Every ``.eml`` of the shared corpus is parsed with the email package and, in each of
`ROUNDS` rounds, gets personal data of every kind (positives) and hard negatives
(organisation numbers, invalid check digits, impossible dates, order and invoice
numbers, timestamps, prices, dates, bank accounts, the message's own participants)
planted into its subject, its text/plain and text/html parts, and the names of added
attachments. The planting is seeded, so the set is the same on every run.

The corpus messages carry personal data of their own (addresses in quoted headers,
phone numbers in spam), which no label describes. So each message is also built once
without plants, through the same re-encoding, and only the findings the plants add
to what that copy and the original hold (a multiset difference of kind and text) are
judged: a new finding that matches a planted positive of its kind is a true positive,
any other new finding a false positive, and a positive without its finding a false
negative. A decoy "draws" a finding when a new finding's text lies inside it.

``python -m tests.detectors.labelled`` (from the repository root) prints the
precision/recall table; `print_report` is what the benchmark calls.
"""

from __future__ import annotations

import email.policy
import html
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from inboxwarden.detectors import Kind, extract_text, scan_message

from .corpus import CORPUS
from .plants import ID_FORMATS, Sources, negative, positive

__all__ = ["ID_FORMATS", "STRICT_NEGATIVES", "Tally", "build_set", "evaluate", "print_report"]

SEED = 20261127
ROUNDS = 2
STRICT_NEGATIVES = ("org_number", "invalid_check_digit", "impossible_date", "invalid_vector")
"""Decoy categories on which not a single identity finding is allowed."""


@dataclass(frozen=True)
class Plant:
    """One planted value: a kind of personal data, or a negative category."""

    label: str
    """A `Kind` value for a positive, "negative/<category>" for a decoy."""
    variant: str
    value: str
    sentence: str
    place: str = ""
    """subject, text/plain, text/html or attachment_name."""


@dataclass
class LabelledMessage:
    """One evaluation message: with plants, without, and who took part in it."""

    name: str
    planted: bytes
    baseline: bytes
    original: bytes
    plants: list[Plant]
    participants: frozenset[str]


@dataclass
class Tally:
    """Counts of one kind (or one negative category) over the whole set."""

    planted: int = 0
    true_positives: int = 0
    false_positives: int = 0
    kinds_hit: Counter[str] = field(default_factory=Counter)
    """For a negative category: how many of its plants drew a finding, by kind."""
    by_variant: Counter[str] = field(default_factory=Counter)
    found_by_variant: Counter[str] = field(default_factory=Counter)
    by_place: Counter[str] = field(default_factory=Counter)
    found_by_place: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0


def _participants(msg: EmailMessage) -> list[str]:
    values: list[str] = []
    for name in ("from", "to", "cc", "bcc", "reply-to"):
        values += _header_values(msg, name)
    return sorted({addr for _, addr in getaddresses(values) if "@" in addr})


def _header_values(msg: EmailMessage, name: str) -> list[str]:
    try:
        return [str(v) for v in msg.get_all(name, [])]
    except Exception:  # a header the parser cannot read names no participant
        return []


def _content(part: EmailMessage) -> object:
    try:
        return part.get_content()
    except Exception:  # unknown charset, broken encoding: the part is left as it is
        return None


def _html_value(rng: random.Random, value: str) -> str:
    escaped = html.escape(value)
    if rng.random() < 0.5:
        escaped = escaped.replace(" ", "&nbsp;")
    if rng.random() < 0.3:
        escaped = escaped.replace("@", "&#64;")
    return escaped


def _walk_text_bearing(msg: EmailMessage) -> Iterator[EmailMessage]:
    """Walk the tree, skipping delivery-status reports, whose "parts" are header blocks."""
    yield msg
    if msg.get_content_type() == "message/delivery-status":
        return
    payload = msg.get_payload()
    for child in payload if isinstance(payload, list) else []:
        if isinstance(child, EmailMessage):
            yield from _walk_text_bearing(child)


def _text_parts(msg: EmailMessage) -> list[tuple[EmailMessage, str]]:
    parts = []
    for part in _walk_text_bearing(msg):
        if part.get_content_maintype() != "text" or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_subtype() not in ("plain", "html"):
            continue
        content = _content(part)
        if isinstance(content, str) and isinstance(part, EmailMessage):
            parts.append((part, content))
    return parts


def _build(
    raw: bytes, rng: random.Random, plan: list[tuple[Plant, str]], with_plants: bool
) -> bytes:
    """Return the message with the planned sentences placed (or, without, only re-encoded)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    parts = _text_parts(msg)
    additions: dict[int, list[str]] = {}
    subject_additions: list[str] = []
    names: list[str] = []
    for plant, where in plan:
        if where == "subject":
            subject_additions.append(plant.sentence)
        elif where == "attachment_name":
            names.append(f"Bilaga ({plant.value}).pdf" if with_plants else "Bilaga.pdf")
        else:
            additions.setdefault(int(where), []).append(plant.sentence)
    for i, (part, content) in enumerate(parts):
        sentences = additions.get(i, []) if with_plants else []
        subtype = part.get_content_subtype()
        if subtype == "html":
            block = "".join(f"<p>{s}</p>" for s in sentences)
            match = re.search(r"<body[^>]*>", content, re.IGNORECASE)
            at = match.end() if match else 0
            content = content[:at] + block + content[at:]
        else:
            lines = content.split("\n")
            at = rng.randint(0, len(lines))
            content = "\n".join(lines[:at] + sentences + lines[at:])
        part.set_content(content, subtype=subtype, charset="utf-8")
    if subject_additions and with_plants:
        old = str(msg.get("subject", "") or "")
        del msg["subject"]
        msg["Subject"] = " – ".join([old, *subject_additions]).strip(" –")
    for name in names:
        msg.add_attachment(b"%PDF-1.4", "application", "pdf", filename=name)
    return msg.as_bytes()


def build_set(corpus: Path | None = CORPUS) -> list[LabelledMessage]:
    """Return the evaluation messages, the same on every run."""
    if corpus is None:
        raise FileNotFoundError("shared corpus not found (set INBOXWARDEN_CORPUS)")
    sources = Sources(corpus)
    files = sorted((corpus / "emails").rglob("*.eml"))
    kinds = list(Kind)
    out: list[LabelledMessage] = []
    for round_ in range(ROUNDS):
        for path in files:
            name = f"{path.relative_to(corpus / 'emails')}#{round_}"
            rng = random.Random(f"{SEED}:{name}")
            raw = path.read_bytes()
            try:
                out.append(_plan_message(raw, rng, sources, kinds, name))
            except Exception:  # noqa: S112 - the email package cannot rebuild it: left out
                continue
    return out


def _plan_message(
    raw: bytes, rng: random.Random, src: Sources, kinds: list[Kind], name: str
) -> LabelledMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    participants = _participants(msg)
    text_parts = _text_parts(msg)
    places = [str(i) for i in range(len(text_parts))] or ["subject"]
    drafts: list[tuple[str, str, str, str]] = []
    for _ in range(rng.randint(3, 5)):
        kind = rng.choice(kinds)
        drafts.append((kind.value, *positive(rng, src, kind)))
    for _ in range(rng.randint(2, 4)):
        category, value, template = negative(rng, src, participants)
        drafts.append((f"negative/{category}", category, value, template))
    placed: list[tuple[Plant, str]] = []
    for label, variant, value, template in drafts:
        roll = rng.random()
        if roll < 0.2:
            where = "subject"
        elif roll < 0.27 and not label.startswith("negative/"):
            where = "attachment_name"
        else:
            where = rng.choice(places)
        place = where
        if where.isdigit():
            place = text_parts[int(where)][0].get_content_type()
        if place == "text/html":
            sentence = html.escape(template).replace("{v}", _html_value(rng, value))
        else:
            sentence = template.replace("{v}", value)
        placed.append((Plant(label, variant, value, sentence, place), where))
    seed = rng.random()
    planted = _build(raw, random.Random(seed), placed, with_plants=True)
    baseline = _build(raw, random.Random(seed), placed, with_plants=False)
    plants = [p for p, _ in placed]
    return LabelledMessage(name, planted, baseline, raw, plants, frozenset(participants))


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _found(raw: bytes, participants: frozenset[str]) -> Counter[tuple[str, str]]:
    result = scan_message(raw, exclude_addresses=participants)
    texts = {(s.part, s.index): s.text for s in extract_text(raw).segments}
    return Counter(
        (f.kind.value, _norm(texts[f.part, f.index][f.start : f.end])) for f in result.findings
    )


def evaluate(messages: list[LabelledMessage]) -> dict[str, Tally]:
    """Return a tally per kind and per negative category."""
    tallies: dict[str, Tally] = {kind.value: Tally() for kind in Kind}
    for message in messages:
        new = _found(message.planted, message.participants)
        # What the message held before planting, as rebuilt and as it came: re-encoding
        # a broken message can change what is visible in it.
        new.subtract(
            _found(message.baseline, message.participants)
            | _found(message.original, message.participants)
        )
        positives = [p for p in message.plants if not p.label.startswith("negative/")]
        for plant in positives:
            tally = tallies[plant.label]
            tally.planted += 1
            tally.by_variant[plant.variant] += 1
            tally.by_place[plant.place] += 1
            key = (plant.label, _norm(plant.value))
            if new[key] > 0:
                new[key] -= 1
                tally.true_positives += 1
                tally.found_by_variant[plant.variant] += 1
                tally.found_by_place[plant.place] += 1
        leftovers = [(key, n) for key, n in new.items() if n > 0]
        for (kind, _), count in leftovers:
            tallies[kind].false_positives += count
        for plant in message.plants:
            if not plant.label.startswith("negative/"):
                continue
            tally = tallies.setdefault(plant.label, Tally())
            tally.planted += 1
            hits = {kind for (kind, text), _ in leftovers if text and text in _norm(plant.value)}
            tally.false_positives += bool(hits)
            tally.kinds_hit.update(hits)
    return tallies


def report_lines(tallies: dict[str, Tally], messages: int) -> Iterator[str]:
    """Yield the precision/recall table as text lines."""
    yield f"Labelled evaluation: {messages} messages (seed {SEED}, {ROUNDS} rounds over the corpus)"
    yield f"{'kind':<20}{'planted':>8}{'TP':>6}{'FN':>6}{'FP':>6}{'precision':>11}{'recall':>8}"
    for kind in Kind:
        t = tallies[kind.value]
        yield (
            f"{kind.value:<20}{t.planted:>8}{t.true_positives:>6}"
            f"{t.planted - t.true_positives:>6}{t.false_positives:>6}"
            f"{t.precision:>11.3f}{t.recall:>8.3f}"
        )
    yield ""
    yield "recall by written form"
    for kind in (Kind.PERSONNUMMER, Kind.SAMORDNINGSNUMMER, Kind.PHONE, Kind.PAYMENT_CARD):
        t = tallies[kind.value]
        for variant in sorted(t.by_variant):
            hits, planted = t.found_by_variant[variant], t.by_variant[variant]
            yield f"  {kind.value:<18} {variant:<14} {hits:>4}/{planted:<4}"
    yield ""
    yield "recall by place (all kinds)"
    places: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for kind in Kind:
        places.update(tallies[kind.value].by_place)
        found.update(tallies[kind.value].found_by_place)
    for place in sorted(places):
        yield f"  {place:<18} {found[place]:>4}/{places[place]:<4}"
    yield ""
    yield f"{'hard negative':<22}{'planted':>8}{'with a finding':>16}  finding kinds"
    for label in sorted(k for k in tallies if k.startswith("negative/")):
        t = tallies[label]
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(t.kinds_hit.items())) or "-"
        yield f"{label.removeprefix('negative/'):<22}{t.planted:>8}{t.false_positives:>16}  {kinds}"


def print_report(echo: Callable[[str], object] = print) -> dict[str, Tally]:
    """Build the set, evaluate it, print the table, and return the tallies."""
    messages = build_set()
    tallies = evaluate(messages)
    for line in report_lines(tallies, len(messages)):
        echo(line)
    return tallies


if __name__ == "__main__":
    print_report()
