"""How fast campaigns.length is: import, first use, and 10,000 typical post texts per platform.

    .venv/bin/python bench/bench_length.py [--count 10000]

The texts imitate a campaign's deliveries: 100-280 characters in English, French, German,
Dutch, Japanese and Arabic, with hashtags, a UTM-tagged link (with or without scheme), a
mention, and emoji (skin tones, ZWJ sequences, flags) in some of them. All 10,000 differ, so
the per-text cache of campaigns.length does not help here (it does in a real campaign, whose
deliveries repeat their texts); the last line measures a repeated pass.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BODIES = [
    "One week to #SaferInternetDay. Online sexual coercion is a crime. If it happens to you, "
    "it is not your fault: talk to someone you trust and report it.",
    "Une semaine avant la Journée pour un internet plus sûr. La sextorsion est un crime : "
    "parlez-en à quelqu'un de confiance.",
    "Noch eine Woche bis zum #SaferInternetDay. Hilfe gibt es rund um die Uhr, vertraulich "
    "und kostenlos \u2013 sprich mit jemandem, dem du vertraust!",
    "Nog één week tot #SaferInternetDay. Online seksuele dwang is strafbaar. Praat erover.",
    "セーファーインターネットデーまであと1週間。性的な脅迫は犯罪です。信頼できる人に相談してください。",
    "أسبوع واحد حتى يوم الإنترنت الآمن. الابتزاز الجنسي عبر الإنترنت جريمة. تحدث إلى شخص تثق به.",
]
LINKS = [
    "https://example.org/sayno?utm_source={p}&utm_medium=social&utm_campaign=sayno-2027",
    "example.org/sayno",
    "https://example.org/fr/sayno",
]
EXTRAS = ["", " 🛡️", " 💬👍🏽", " 👨‍👩‍👧‍👦", " 🇪🇺", " @partner@example.social", " ✊🏿✨"]


def texts(count: int) -> list[str]:
    rnd = random.Random(2027)
    out = []
    for i in range(count):
        body = rnd.choice(BODIES)
        link = rnd.choice(LINKS).format(p=rnd.choice(["x", "mastodon", "bluesky"]))
        # every text distinct (day number, link id), so that no cache helps
        out.append(f"{i}/ {body}{rnd.choice(EXTRAS)}\n\n#SayNo #SID{i % 7}\n{link}&id={i}")
    return out


def import_cost() -> float:
    """Self time of our modules in `python -X importtime`, in ms."""
    code = "import campaigns.platforms, regex, unicodedata2, unicode_segmentation_rs"
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"{code}; import campaigns.length"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stderr
    ours = (
        "campaigns.length",
        "campaigns._twitter_text",
        "campaigns._twitter_text_data",
        "campaigns._mastodon_text",
    )
    total = 0
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", line)
        if m and m.group(2) in ours:
            total += int(m.group(1))
    return total / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    print(f"import of campaigns.length and its helpers: {import_cost():.1f} ms (self time)")

    from campaigns import _mastodon_text, _twitter_text
    from campaigns.length import hashtags, measure
    from campaigns.platformrules import PlatformRules
    from campaigns.platforms import PLATFORMS

    start = time.process_time()
    _twitter_text.compile_all()
    middle = time.process_time()
    _mastodon_text.compile_all()
    end = time.process_time()
    print(
        f"first use: X patterns {1000 * (middle - start):.0f} ms, "
        f"Mastodon patterns {1000 * (end - middle):.0f} ms (once per process; compiled once, "
        "then read from campaigns/__pycache__)"
    )

    corpus = texts(args.count)
    mean = statistics.mean(len(t) for t in corpus)
    print(f"{len(corpus)} texts, {mean:.0f} characters on average; CPU time, best of {args.repeat}")
    jobs = [(name, rules) for name, rules in PLATFORMS.items() if name != "webhook"]

    def report(what: str, best: float) -> None:
        per_text = best / len(corpus) * 1e6
        print(f"  {what:<17} {best * 1000:7.1f} ms  ({per_text:5.1f} µs/text)")

    def uncached(rules: PlatformRules) -> float:
        _cache_clear()
        return _timed(lambda: [measure(t, rules) for t in corpus])

    for name, rules in jobs:
        report(f"measure {name}", min(uncached(rules) for _ in range(args.repeat)))
    report("hashtags", min(_timed(lambda: [hashtags(t) for t in corpus]) for _ in range(3)))
    x = PLATFORMS["x"]
    report(
        "measure x again", min(_timed(lambda: [measure(t, x) for t in corpus]) for _ in range(3))
    )


def _cache_clear() -> None:
    from campaigns import length

    for cached in (length._x_count, length._mastodon_count, length._grapheme_count_cached):
        cached.cache_clear()


def _timed(job: object) -> float:
    """CPU time of the job: wall time would count other processes on a busy machine."""
    start = time.process_time()
    job()  # type: ignore[operator]
    return time.process_time() - start


if __name__ == "__main__":
    main()
