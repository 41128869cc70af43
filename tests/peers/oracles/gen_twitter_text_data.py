"""Regenerate campaigns/_twitter_text_data.py from the official npm packages.

    bash tests/peers/oracles/install.sh          # npm ci: twitter-text 3.1.0, twemoji-parser 11.0.2
    .venv/bin/python tests/peers/oracles/gen_twitter_text_data.py

X counts a post with twitter-text, whose URL, hashtag and emoji rules are large JavaScript
regular expressions (the emoji one comes from twemoji-parser). Rather than retyping them,
this script takes the assembled sources from the packages themselves (dump_twitter_regexes.mjs)
and translates each one into an equivalent Python `re` pattern:

* JavaScript regexes without the /u flag work on UTF-16 code units. The generated patterns do
  too: campaigns/_twitter_text.py runs them on the text spelled as UTF-16 code units (an astral
  character becomes its two surrogates), so indices, surrogate halves and negated classes
  behave exactly as in JavaScript.
* /i is compiled away: every literal and class is widened to the code units that ECMAScript's
  Canonicalize() (toUpperCase, non-unicode mode) makes equal, using V8's own case table.
  Python's IGNORECASE folds differently (for instance U+017F and U+212A match ASCII letters
  there), so it is never used.
* `^`/`$` become `\\A`/`\\Z`; `\\s`, `\\w`, `\\d` and `\\b` get their ECMAScript meanings.
* Alternations of literal words (the top-level-domain lists) become a trie when that
  provably keeps JavaScript's first-match order, which Python's engine needs for speed.

The output is checked: every generated pattern is compiled, and the differential tests in
tests/campaigns/test_length_oracles.py compare the result with the npm packages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = ROOT / "campaigns" / "_twitter_text_data.py"
GRAPHEME_OUT = ROOT / "campaigns" / "_grapheme_data.py"

BMP = 0x10000

# ---------------------------------------------------------------------------------------------
# Character sets of UTF-16 code units


def _ranges(units: set[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for u in sorted(units):
        if out and out[-1][1] == u - 1:
            out[-1] = (out[-1][0], u)
        else:
            out.append((u, u))
    return out


JS_SPACE = (
    {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}
    | set(range(0x2000, 0x200B))
    | {0xFEFF}
)
JS_WORD = set(range(0x30, 0x3A)) | set(range(0x41, 0x5B)) | set(range(0x61, 0x7B)) | {0x5F}
JS_DIGIT = set(range(0x30, 0x3A))
JS_LINE_TERMINATORS = {0x0A, 0x0D, 0x2028, 0x2029}


@dataclass
class CharSet:
    units: set[int]
    negated: bool = False


@dataclass
class Group:
    kind: str  # "cap", "nc", "la", "nla"
    body: Alt


@dataclass
class Assert:
    kind: str  # "^", "$", "b", "B"


@dataclass
class Quant:
    node: Node
    lo: int
    hi: int | None
    lazy: bool


@dataclass
class Alt:
    seqs: list[list[Node]] = field(default_factory=list)


Node = CharSet | Group | Assert | Quant | Alt


# ---------------------------------------------------------------------------------------------
# A parser for the ECMAScript regex subset twitter-text uses (non-unicode mode, Annex B).


class Parser:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0

    def error(self, msg: str) -> Exception:
        return ValueError(f"{msg} at {self.i}: {self.s[self.i : self.i + 40]!r}")

    def parse(self) -> Alt:
        alt = self.disjunction()
        if self.i != len(self.s):
            raise self.error("trailing input")
        return alt

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def disjunction(self) -> Alt:
        seqs = [self.alternative()]
        while self.peek() == "|":
            self.i += 1
            seqs.append(self.alternative())
        return Alt(seqs)

    def alternative(self) -> list[Node]:
        seq: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            seq.append(self.term())
        return seq

    def term(self) -> Node:
        c = self.peek()
        if c == "^":
            self.i += 1
            return Assert("^")
        if c == "$":
            self.i += 1
            return Assert("$")
        if c == "\\" and self.peek(1) in ("b", "B"):
            self.i += 2
            return Assert(self.s[self.i - 1])
        atom = self.atom()
        return self.quantifier(atom)

    def quantifier(self, atom: Node) -> Node:
        c = self.peek()
        lo: int
        hi: int | None
        if c == "*":
            lo, hi = 0, None
            self.i += 1
        elif c == "+":
            lo, hi = 1, None
            self.i += 1
        elif c == "?":
            lo, hi = 0, 1
            self.i += 1
        elif c == "{":
            j = self.s.find("}", self.i)
            body = self.s[self.i + 1 : j] if j > 0 else ""
            parts = body.split(",")
            if j < 0 or not parts[0].isdigit() or len(parts) > 2:
                return atom  # Annex B: a literal '{' (handled by atom() next time)
            if len(parts) == 2 and parts[1] and not parts[1].isdigit():
                return atom
            lo = int(parts[0])
            hi = lo if len(parts) == 1 else (int(parts[1]) if parts[1] else None)
            self.i = j + 1
        else:
            return atom
        lazy = False
        if self.peek() == "?":
            lazy = True
            self.i += 1
        return Quant(atom, lo, hi, lazy)

    def atom(self) -> Node:
        c = self.peek()
        if c == "(":
            if self.s.startswith("(?:", self.i):
                kind, self.i = "nc", self.i + 3
            elif self.s.startswith("(?=", self.i):
                kind, self.i = "la", self.i + 3
            elif self.s.startswith("(?!", self.i):
                kind, self.i = "nla", self.i + 3
            elif self.s.startswith("(?<", self.i):
                raise self.error("lookbehind and named groups are not supported")
            else:
                kind, self.i = "cap", self.i + 1
            body = self.disjunction()
            if self.peek() != ")":
                raise self.error("expected )")
            self.i += 1
            return Group(kind, body)
        if c == "[":
            return self.char_class()
        if c == ".":
            self.i += 1
            return CharSet(set(JS_LINE_TERMINATORS), negated=True)
        if c == "\\":
            self.i += 1
            return self.atom_escape()
        if c in ("*", "+", "?"):
            raise self.error("nothing to repeat")
        self.i += 1
        return CharSet({ord(c)})

    def atom_escape(self) -> CharSet:
        c = self.peek()
        if c.isdigit() and c != "0":
            raise self.error("back-references are not supported")
        unit, cls = self.escape(in_class=False)
        if cls is not None:
            return cls
        return CharSet({unit})

    def escape(self, *, in_class: bool) -> tuple[int, CharSet | None]:
        """After a backslash: one code unit, or a class escape."""
        c = self.peek()
        self.i += 1
        simple = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
        if c in simple:
            return simple[c], None
        if c == "b" and in_class:
            return 8, None
        if c == "0" and not self.peek().isdigit():
            return 0, None
        if c == "x" and all(ch in "0123456789abcdefABCDEF" for ch in self.s[self.i : self.i + 2]):
            self.i += 2
            return int(self.s[self.i - 2 : self.i], 16), None
        if c == "u" and all(ch in "0123456789abcdefABCDEF" for ch in self.s[self.i : self.i + 4]):
            self.i += 4
            return int(self.s[self.i - 4 : self.i], 16), None
        if c == "c" and self.peek().isalpha():
            self.i += 1
            return ord(self.s[self.i - 1]) % 32, None
        if c in "dDsSwW":
            base = {"d": JS_DIGIT, "s": JS_SPACE, "w": JS_WORD}[c.lower()]
            return -1, CharSet(set(base), negated=c.isupper())
        if c.isalnum():
            raise self.error(f"unsupported escape \\{c}")
        return ord(c), None  # identity escape

    def char_class(self) -> CharSet:
        self.i += 1
        negated = False
        if self.peek() == "^":
            negated = True
            self.i += 1
        units: set[int] = set()
        classes: list[CharSet] = []
        while True:
            c = self.peek()
            if c == "":
                raise self.error("unterminated class")
            if c == "]":
                self.i += 1
                break
            lo, cls = self.class_atom()
            if cls is not None:
                classes.append(cls)
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                save = self.i
                self.i += 1
                hi, cls2 = self.class_atom()
                if cls2 is not None:  # Annex B: [\w-x] means \w, '-', x
                    self.i = save
                    units.add(lo)
                    continue
                if hi < lo:
                    raise self.error("range out of order")
                units.update(range(lo, hi + 1))
            else:
                units.add(lo)
        for cls in classes:
            units |= cls.units if not cls.negated else set(range(BMP)) - cls.units
        return CharSet(units, negated)

    def class_atom(self) -> tuple[int, CharSet | None]:
        c = self.peek()
        if c == "\\":
            self.i += 1
            return self.escape(in_class=True)
        self.i += 1
        return ord(c), None


# ---------------------------------------------------------------------------------------------
# Case-insensitivity, compiled away


class Canon:
    def __init__(self, pairs: list[list[int]]) -> None:
        canon = list(range(BMP))
        for c, cu in pairs:
            canon[c] = cu
        self.canon = canon
        classes: dict[int, list[int]] = {}
        for c in range(BMP):
            classes.setdefault(canon[c], []).append(c)
        self.members = {c: classes[canon[c]] for c in range(BMP) if len(classes[canon[c]]) > 1}

    def widen(self, units: set[int]) -> set[int]:
        out = set(units)
        for u in units:
            out.update(self.members.get(u, ()))
        return out


def fold(node: Node, canon: Canon) -> Node:
    if isinstance(node, CharSet):
        return CharSet(canon.widen(node.units), node.negated)
    if isinstance(node, Group):
        return Group(node.kind, fold_alt(node.body, canon))
    if isinstance(node, Quant):
        return Quant(fold(node.node, canon), node.lo, node.hi, node.lazy)
    if isinstance(node, Alt):
        return fold_alt(node, canon)
    return node


def fold_alt(alt: Alt, canon: Canon) -> Alt:
    return Alt([[fold(n, canon) for n in seq] for seq in alt.seqs])


# ---------------------------------------------------------------------------------------------
# Literal-word alternations -> tries (only where JavaScript's order is kept)


def literal_word(seq: list[Node]) -> tuple[frozenset[int], ...] | None:
    """A sequence of single-position, non-negated sets, or None."""
    word = []
    for n in seq:
        if not isinstance(n, CharSet) or n.negated or not n.units:
            return None
        word.append(frozenset(n.units))
    return tuple(word) if word else None


@dataclass
class _TrieNode:
    children: dict[frozenset[int], _TrieNode] = field(default_factory=dict)
    end: bool = False


def trie_alt(alt: Alt) -> Alt | None:
    """Rewrite `w1|w2|...` (all literal words) as a trie, if that keeps the first-match order.

    With backtracking, JavaScript tries the words in order. A trie with greedy optional tails
    tries, among the words that can match at a position, the longest first. Two words can both
    match at one position only when one is a prefix of the other (as sets); the rewrite is
    kept only if every such prefix word comes after its extension, as in twitter-text's
    reverse-sorted TLD lists.
    """
    words = [literal_word(seq) for seq in alt.seqs]
    if len(words) < 8 or any(w is None for w in words):
        return None
    ws: list[tuple[frozenset[int], ...]] = [w for w in words if w is not None]

    def could_prefix(a: tuple[frozenset[int], ...], b: tuple[frozenset[int], ...]) -> bool:
        return len(a) < len(b) and all(x & y for x, y in zip(a, b, strict=False))

    for i, a in enumerate(ws):
        for b in ws[:i]:
            if could_prefix(b, a):
                return None  # a shorter word comes first: a trie would change the order
    trie = _TrieNode()
    for w in ws:
        node = trie
        for s in w:
            node = node.children.setdefault(s, _TrieNode())
        node.end = True

    # Siblings in one trie node must be disjoint sets, or the order among them would matter.
    def check(node: _TrieNode) -> bool:
        keys = list(node.children)
        for i, a in enumerate(keys):
            for b in keys[:i]:
                if a & b:
                    return False
        return all(check(child) for child in node.children.values())

    if not check(trie):
        return None

    def build(node: _TrieNode) -> Alt:
        seqs: list[list[Node]] = []
        for key, child in node.children.items():
            sub = build(child)
            head: list[Node] = [CharSet(set(key))]
            if child.end and sub.seqs:
                head.append(Quant(Group("nc", sub), 0, 1, False))
            elif sub.seqs:
                if len(sub.seqs) == 1:
                    head.extend(sub.seqs[0])
                else:
                    head.append(Group("nc", sub))
            seqs.append(head)
        return Alt(seqs)

    return build(trie)


def optimise(node: Node) -> Node:
    if isinstance(node, Group):
        return Group(node.kind, optimise_alt(node.body))
    if isinstance(node, Quant):
        return Quant(optimise(node.node), node.lo, node.hi, node.lazy)
    if isinstance(node, Alt):
        return optimise_alt(node)
    return node


def optimise_alt(alt: Alt) -> Alt:
    tried = trie_alt(alt)
    if tried is not None:
        return tried
    return Alt([[optimise(n) for n in seq] for seq in alt.seqs])


# ---------------------------------------------------------------------------------------------
# Domain labels without backtracking


@dataclass
class Raw:
    """Already-emitted Python pattern text."""

    text: str


def _is_set(n: Node | Raw) -> bool:
    return isinstance(n, CharSet)


def _label(seq: list[Node], i: int) -> tuple[CharSet, CharSet] | None:
    """Match `(?:X(?:A|X)*)?X\\.` at seq[i:i+3]; return (X, A)."""
    if i + 3 > len(seq):
        return None
    q, x2, dot = seq[i], seq[i + 1], seq[i + 2]
    if not (isinstance(q, Quant) and (q.lo, q.hi, q.lazy) == (0, 1, False)):
        return None
    if not (isinstance(x2, CharSet) and isinstance(dot, CharSet) and dot.units == {0x2E}):
        return None
    if dot.negated or not isinstance(q.node, Group) or len(q.node.body.seqs) != 1:
        return None
    inner = q.node.body.seqs[0]
    if len(inner) != 2 or inner[0] != x2 or not isinstance(inner[1], Quant):
        return None
    star = inner[1]
    if (star.lo, star.hi, star.lazy) != (0, None, False) or not isinstance(star.node, Group):
        return None
    alts = star.node.body.seqs
    if len(alts) != 2 or any(len(a) != 1 or not isinstance(a[0], CharSet) for a in alts):
        return None
    a, x3 = alts[0][0], alts[1][0]
    assert isinstance(a, CharSet) and isinstance(x3, CharSet)
    if x3 != x2 or a.negated:
        return None
    return x2, a


def _matches(cs: CharSet, u: int) -> bool:
    return (u in cs.units) != cs.negated


def rewrite_labels(node: Node) -> Node:
    """`(?:X(?:A|X)*)?X\\.` -> `(?=X)Y*+(?<=X)\\.` with Y = X|A.

    A domain label followed by a dot can match in exactly one way (the longest run of X|A
    characters, which must start and end with X), because '.' is in neither X nor A; so
    making the run possessive changes no match and removes the quadratic backtracking that
    Python's engine (unlike V8's) would do on every long word.
    """
    if isinstance(node, Group):
        return Group(node.kind, Alt([_rewrite_seq(s) for s in node.body.seqs]))
    if isinstance(node, Quant):
        return Quant(rewrite_labels(node.node), node.lo, node.hi, node.lazy)
    if isinstance(node, Alt):
        return Alt([_rewrite_seq(s) for s in node.seqs])
    return node


def _rewrite_seq(seq: list[Node]) -> list[Node]:
    out: list[Node] = []
    i = 0
    while i < len(seq):
        found = _label(seq, i)
        if found is None:
            out.append(rewrite_labels(seq[i]))
            i += 1
            continue
        x, a = found
        y = CharSet(x.units - a.units, negated=True) if x.negated else CharSet(x.units | a.units)
        assert not _matches(y, 0x2E), "'.' must not be a label character"
        xs = emit_set(x)
        out.append(Raw(f"(?={xs})(?:{emit_set(y)})*+(?<={xs})\\."))  # type: ignore[arg-type]
        i += 3
    return out


def first_units(node: Node) -> tuple[set[int], bool]:
    """The code units a match can start with (a superset), and whether it can be empty."""
    if isinstance(node, CharSet):
        return (set(range(BMP)) - node.units if node.negated else set(node.units)), False
    if isinstance(node, Assert):
        return set(), True
    if isinstance(node, Group):
        if node.kind in ("la", "nla"):
            return set(), True
        return first_units(node.body)
    if isinstance(node, Quant):
        units, nullable = first_units(node.node)
        return units, nullable or node.lo == 0
    if isinstance(node, Alt):
        out: set[int] = set()
        nullable = False
        for seq in node.seqs:
            units, seq_nullable = first_of_seq(seq)
            out |= units
            nullable = nullable or seq_nullable
        return out, nullable
    raise TypeError(node)


def first_of_seq(seq: list[Node]) -> tuple[set[int], bool]:
    out: set[int] = set()
    for n in seq:
        units, nullable = first_units(n)
        out |= units
        if not nullable:
            return out, False
    return out, True


# ---------------------------------------------------------------------------------------------
# Emission as a Python `re` pattern over code units (str whose characters are UTF-16 units)


def unit_escape(u: int, *, in_class: bool) -> str:
    c = chr(u)
    if c.isascii() and c.isalnum():
        return c
    if 0x20 < u < 0x7F:
        return "\\" + c
    if u <= 0xFF:
        return f"\\x{u:02x}"
    return f"\\u{u:04x}"


def class_body(units: set[int]) -> str:
    parts = []
    for lo, hi in _ranges(units):
        if lo == hi:
            parts.append(unit_escape(lo, in_class=True))
        elif hi == lo + 1:
            parts.append(unit_escape(lo, in_class=True) + unit_escape(hi, in_class=True))
        else:
            parts.append(unit_escape(lo, in_class=True) + "-" + unit_escape(hi, in_class=True))
    return "".join(parts)


def emit_set(cs: CharSet) -> str:
    units = cs.units
    if not cs.negated:
        if not units:
            return "(?!)"
        if len(units) == 1:
            return unit_escape(next(iter(units)), in_class=False)
        if len(units) == BMP:
            return "[\\x00-\\uffff]"
        return "[" + class_body(units) + "]"
    if not units:
        return "[\\x00-\\uffff]"
    return "[^" + class_body(units) + "]"


WORD = "[0-9A-Z_a-z]"


def emit(node: Node | Raw) -> str:
    if isinstance(node, Raw):
        return node.text
    if isinstance(node, CharSet):
        return emit_set(node)
    if isinstance(node, Assert):
        return {
            "^": "\\A",
            "$": "\\Z",
            "b": f"(?:(?<={WORD})(?!{WORD})|(?<!{WORD})(?={WORD}))",
            "B": f"(?:(?<={WORD})(?={WORD})|(?<!{WORD})(?!{WORD}))",
        }[node.kind]
    if isinstance(node, Group):
        prefix = {"cap": "(", "nc": "(?:", "la": "(?=", "nla": "(?!"}[node.kind]
        return prefix + emit_alt(node.body) + ")"
    if isinstance(node, Quant):
        inner = emit(node.node)
        if not isinstance(node.node, Group) and (
            not isinstance(node.node, CharSet) or inner.startswith("(")
        ):
            inner = "(?:" + inner + ")"
        if (node.lo, node.hi) == (0, None):
            q = "*"
        elif (node.lo, node.hi) == (1, None):
            q = "+"
        elif (node.lo, node.hi) == (0, 1):
            q = "?"
        elif node.hi is None:
            q = f"{{{node.lo},}}"
        elif node.lo == node.hi:
            q = f"{{{node.lo}}}"
        else:
            q = f"{{{node.lo},{node.hi}}}"
        return inner + q + ("?" if node.lazy else "")
    if isinstance(node, Alt):
        return "(?:" + emit_alt(node) + ")"
    raise TypeError(node)


def emit_alt(alt: Alt) -> str:
    return "|".join("".join(emit(n) for n in seq) for seq in alt.seqs)


def translate(source: str, flags: str, canon: Canon) -> str:
    tree: Node = Parser(source).parse()
    if "i" in flags:
        tree = fold(tree, canon)
    tree = optimise(rewrite_labels(tree))
    assert isinstance(tree, Alt)
    return emit_alt(tree)


def parse_folded(source: str, flags: str, canon: Canon) -> Alt:
    tree: Node = Parser(source).parse()
    if "i" in flags:
        tree = fold(tree, canon)
    assert isinstance(tree, Alt)
    return tree


# ---------------------------------------------------------------------------------------------


_TOKEN = re.compile(r"\\U[0-9a-f]{8}|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|\\.|.", re.DOTALL)


def chunks(pattern: str, width: int = 88) -> list[str]:
    """Split a pattern into raw-string pieces that never end inside an escape."""
    out: list[str] = []
    piece = ""
    for token in _TOKEN.findall(pattern):
        if len(piece) + len(token) > width:
            out.append(piece)
            piece = ""
        piece += token
    if piece:
        out.append(piece)
    return out


def derived_classes(data: dict[str, dict[str, str]], canon: Canon) -> dict[str, str]:
    """Character classes campaigns/_twitter_text.py uses to skip text that cannot match."""
    regexes = data

    # A URL's domain ends in '.' + a top-level domain: the units a TLD can start with.
    tld_start: set[int] = set()
    for name in ("validGTLD", "validCCTLD", "validPunycode"):
        tree = parse_folded(regexes[name]["source"], "i", canon)  # extractUrl is /i
        tld_start |= first_units(tree)[0]

    # The characters of a domain (labels, '-', '_' and the dots between them).
    chars = parse_folded(regexes["validDomainChars"]["source"], "i", canon).seqs[0][0]
    assert isinstance(chars, CharSet) and chars.negated
    domain_run = CharSet(chars.units - {0x2D, 0x5F, 0x2E}, negated=True)

    # Where a twemoji match can start. Keycaps ([#*0-9] FE0F? 20E3) are found from their
    # FE0F / 20E3 instead, so that ordinary digits do not count as candidates.
    tree = parse_folded(regexes["twemoji"]["source"], regexes["twemoji"]["flags"], canon)
    keycap_bases = {ord(c) for c in "#*0123456789"}
    emoji_start: set[int] = set()
    keycaps = 0
    for seq in tree.seqs:
        units, nullable = first_of_seq(seq)
        assert not nullable
        if units & keycap_bases:
            assert units == keycap_bases, "only keycaps may start with [#*0-9]"
            assert emit_alt(Alt([seq])) == "[\\#\\*0-9]\\ufe0f?\\u20e3", emit_alt(Alt([seq]))
            keycaps += 1
            continue
        emoji_start |= units
    assert keycaps == 1
    assert 0xFE0F in emoji_start  # a lone VS16 is an emoji for twemoji-parser
    emoji_start.add(0x20E3)
    return {
        "TLD_START": emit_set(CharSet(tld_start)),
        "NOT_DOMAIN_RUN": emit_set(CharSet(domain_run.units)),
        "EMOJI_START": emit_set(CharSet(emoji_start)),
    }


HEADER = """\
\"\"\"Regular expressions of twitter-text and twemoji-parser, over UTF-16 code units.

GENERATED by tests/peers/oracles/gen_twitter_text_data.py from the npm packages
twitter-text {tt} (Copyright 2018 Twitter, Inc., Apache License 2.0) and
twemoji-parser {tw} (Copyright Twitter Inc., MIT licence), with the case table of
Node {node} (Unicode {unicode}). Do not edit by hand: run that script.

Every pattern works on a str whose characters are UTF-16 code units and takes no
flags: JavaScript's /i is already expanded into the character classes.

twitter-text is licensed under the Apache License, Version 2.0; its text is in
tests/conformance/twitter-text/LICENSE. twemoji-parser's licence:

Copyright (c) 2018 Twitter, Inc.

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
\"\"\"

# ruff: noqa: RUF001, RUF003

TWITTER_TEXT_VERSION = {tt!r}
TWEMOJI_PARSER_VERSION = {tw!r}
UNICODE_VERSION = {unicode!r}
"""


def _code_point_class(prop: str, *, lo: int = 0, hi: int = 0x10FFFF) -> str:
    """A Python class body for the code points with a Unicode property (the `regex` module's
    data, which is Unicode 17 like V8's ICU and unicode-segmentation-rs)."""
    import regex

    matcher = regex.compile(prop)
    ranges: list[tuple[int, int]] = []
    for cp in range(lo, hi + 1):
        if 0xD800 <= cp <= 0xDFFF or not matcher.match(chr(cp)):
            continue
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))

    def esc(cp: int) -> str:
        return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


def write_grapheme_data() -> None:
    import regex

    joiner = (
        r"[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=SpacingMark}\p{GCB=Prepend}"
        r"\p{GCB=Regional_Indicator}\p{GCB=L}\p{GCB=V}\p{GCB=T}]"
    )
    # Python's engine tests a class of BMP characters with a bitmap, but walks a class with
    # astral ranges one range at a time: so the BMP part is kept apart.
    joiners = _code_point_class(joiner, hi=0xFFFF)
    prepend = _code_point_class(r"\p{GCB=Prepend}")
    lines = [
        '"""Code points that can join a grapheme cluster with a neighbour (UAX #29).',
        "",
        "GENERATED by tests/peers/oracles/gen_twitter_text_data.py from the `regex` module's",
        f"Unicode data (regex {regex.__version__}). campaigns.length counts a text without any",
        "of these as one grapheme per code point (CR LF aside) without segmenting it.",
        '"""',
        "",
        "# Grapheme_Cluster_Break = Extend, ZWJ, SpacingMark, Prepend, Regional_Indicator, L, V, T",
        "# in the BMP (a text with astral characters is segmented whatever they are)",
        "BMP_JOINERS = (",
        *(f'    "{piece}"' for piece in chunks(joiners)),
        ")",
        "# Grapheme_Cluster_Break = Prepend (joins with the character after it)",
        "PREPEND = (",
        *(f'    "{piece}"' for piece in chunks(prepend)),
        ")",
        "",
    ]
    GRAPHEME_OUT.write_text("\n".join(lines), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", str(GRAPHEME_OUT)], check=False)
    print(f"wrote {GRAPHEME_OUT.relative_to(ROOT)}", file=sys.stderr)


def main() -> int:
    write_grapheme_data()
    dump = subprocess.run(
        ["node", str(HERE / "dump_twitter_regexes.mjs")],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(dump.stdout)
    canon = Canon(data["canon"])
    versions = data["versions"]
    names = {
        "EXTRACT_URL": "extractUrl",
        "VALID_TCO_URL": "validTcoUrl",
        "VALID_ASCII_DOMAIN": "validAsciiDomain",
        "VALID_HASHTAG": "validHashtag",
        "END_HASHTAG_MATCH": "endHashtagMatch",
        "TWEMOJI": "twemoji",
    }
    lines = [
        HEADER.format(
            tt=versions["twitter-text"],
            tw=versions["twemoji-parser"],
            node=versions["node"],
            unicode=versions["unicode"],
        )
    ]

    def constant(const: str, pattern: str, comment: str) -> None:
        re.compile(pattern)  # must compile
        lines.append(f"# {comment}")
        lines.append(f"{const} = (")
        lines.extend(f'    r"{piece}"' for piece in chunks(pattern))
        lines.append(")")
        lines.append("")
        print(f"{const}: {len(pattern)} chars", file=sys.stderr)

    for const, name in names.items():
        spec = data["regexes"][name]
        src = spec["source"]
        shown = src if len(src) <= 60 else src[:40] + "…"
        constant(const, translate(src, spec["flags"], canon), f"{name}: /{shown}/{spec['flags']}")
    for const, pattern in derived_classes(data["regexes"], canon).items():
        constant(const, pattern, "derived, see gen_twitter_text_data.derived_classes")
    for const, name in (("TLDS_GENERIC", "validGTLD"), ("TLDS_COUNTRY", "validCCTLD")):
        src = data["regexes"][name]["source"]
        words = src[src.index("(?:(?:") + 6 : src.index(")(?=")].split("|")
        assert not any(set(w) & set("|()[]?*+.\\") for w in words), name
        lines.append(f"# {name}: the words, in twitter-text's order (Mastodon's gem has the same)")
        lines.append(f"{const} = (")
        lines.extend(f"    {w!r}," for w in words)
        lines.append(")")
        lines.append("")
    OUT.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ruff", "format", str(OUT)], check=False)
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
