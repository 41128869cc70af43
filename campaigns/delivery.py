"""A delivery: one post part, at one instant, in one language, on one channel.

This is what a plan expands into and what the scheduler stores, previews and publishes.

The key names *which* delivery it is and never contains a time or the text, so editing a
post's words or moving it keeps its key (the ledger updates it, or reports the edit when it
was already sent). It reads `campaign/post[@occurrence]/variant/channel[/part]`:
- `occurrence` only for recurring posts: the local date, plus the local time when the post
  recurs more than once on that date (`2027-02-01`, `2027-02-01T1000`; `T100030` when the
  rule reaches seconds);
- `variant` is the audience's name when the campaign has audiences, else the language, or
  `-` when the campaign declares no languages;
- `part` only for threads: 1, 2, 3…
Adding, removing or reordering other posts never changes a key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import PurePath
from typing import Literal

from campaigns.problems import Location

Status = Literal["approved", "draft"]


@dataclass(frozen=True, slots=True, repr=False)
class Media:
    file: str
    """As written in the campaign file, relative to it."""
    path: str
    """Absolute path on this machine."""
    alt: str
    mime: str
    captions: str | None = None
    """A video's captions file (SRT or WebVTT) in the delivery's language: absolute path."""
    thumbnail: str | None = None
    """A video's cover image: absolute path."""

    def __repr__(self) -> str:
        """The fields that have a value: a media item without captions or thumbnail reads as
        it did before they existed (ledgers compare reprs of deliveries they stored then)."""
        extra = "".join(
            f", {name}={value!r}"
            for name, value in (("captions", self.captions), ("thumbnail", self.thumbnail))
            if value is not None
        )
        return (
            f"Media(file={self.file!r}, path={self.path!r}, alt={self.alt!r}, "
            f"mime={self.mime!r}{extra})"
        )

    @property
    def attached(self) -> tuple[str, ...]:
        """The names of its captions and thumbnail files, where it has them (empty otherwise):
        what they add to the delivery's identity, wherever the files are on this machine."""
        if self.captions is None and self.thumbnail is None:
            return ()
        return tuple(
            "-" if p is None else PurePath(p).name for p in (self.captions, self.thumbnail)
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    campaign: str
    post: str
    channel: str
    platform: str
    language: str | None
    audience: str | None
    due_utc: datetime
    """Aware, in UTC: the instant the post goes out."""
    timezone: str
    """The IANA zone whose wall clock the author meant (audience, post or campaign zone)."""
    deadline_utc: datetime | None
    """Past this instant the delivery expires instead of going out late."""
    text: str
    thread_index: int
    """0 for a single post or a thread's first part."""
    thread_size: int
    parent_key: str | None
    """The previous part of the same thread on the same channel, which this one replies to."""
    media: tuple[Media, ...]
    link: str | None
    """The link in the text, with its UTM parameters, for platforms that build link cards."""
    status: Status
    length: int
    limit: int
    source: str
    """`file:line:col` of the post in its campaign file."""
    warnings: tuple[str, ...] = ()
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self))

    @property
    def source_file(self) -> str:
        """The campaign file the post was read from."""
        return Location.file_of(self.source)

    @property
    def due_local(self) -> datetime:
        from zoneinfo import ZoneInfo

        return self.due_utc.astimezone(ZoneInfo(self.timezone))


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """The key of this module's docstring, by its parts; `str()` gives the stored form."""

    campaign: str
    post: str
    occurrence: str | None
    variant: str
    channel: str
    part: int | None = None

    def __str__(self) -> str:
        return delivery_key(
            self.campaign, self.post, self.occurrence, self.variant, self.channel, self.part
        )

    @classmethod
    def parse(cls, key: str) -> DeliveryKey:
        """The parts of a stored key; ValueError if it is not one."""
        parts = key.split("/")
        if len(parts) not in (4, 5) or not all(parts):
            raise ValueError(f"not a delivery key: {key!r}")
        campaign, post, variant, channel, *rest = parts
        post, _, occurrence = post.partition("@")
        if rest and not rest[0].isdigit():
            raise ValueError(f"not a delivery key (its thread part is not a number): {key!r}")
        return cls(
            campaign, post, occurrence or None, variant, channel, int(rest[0]) if rest else None
        )

    @property
    def thread(self) -> DeliveryKey:
        """The key shared by every part of the same thread (the key itself when no thread)."""
        return replace(self, part=None)

    @property
    def series(self) -> DeliveryKey:
        """The key without its occurrence: the same for every occurrence of a recurring post."""
        return replace(self, occurrence=None)

    def named(self) -> tuple[tuple[str, str], ...]:
        """(what the part is, its value) for each part that names something, in key order:
        what a rename can change."""
        post = f"{self.post}@{self.occurrence}" if self.occurrence else self.post
        named = [
            ("campaign", self.campaign),
            ("post", post),
            ("audience or language", self.variant),
            ("channel", self.channel),
        ]
        if self.part is not None:
            named.append(("thread part", str(self.part)))
        return tuple(named)


def delivery_key(
    campaign: str, post: str, occurrence: str | None, variant: str, channel: str, part: int | None
) -> str:
    """`str(DeliveryKey(...))` of these parts, without building the key (plans of thousands)."""
    if occurrence:
        post = f"{post}@{occurrence}"
    key = f"{campaign}/{post}/{variant}/{channel}"
    return key if part is None else f"{key}/{part}"


def content_hash(delivery: Delivery) -> str:
    """Hash of what the audience would see; a change after sending is reported, not re-posted."""
    return hash_content(delivery.text, delivery.media, delivery.link, delivery.language)


def _content(media: Media) -> str:
    """What a media item shows: its file and alt text, then '+' and the names of its captions
    and thumbnail where it has any, so that an item without them hashes as it always did."""
    shown = f"{len(media.file)}:{media.file}{len(media.alt)}:{media.alt}"
    if media.attached:
        shown += "+" + "".join(f"{len(name)}:{name}" for name in media.attached)
    return shown


def hash_content(
    text: str, media: tuple[Media, ...], link: str | None, language: str | None
) -> str:
    """32 hex digits. Each field is written with its length first, so that no text can pass
    for another field's (and computing it stays cheap for plans of thousands of deliveries)."""
    payload = (
        f"{len(text)}:{text}"
        + ("-" if link is None else f"{len(link)}:{link}")
        + ("-" if language is None else f"{len(language)}:{language}")
    )
    if media:
        payload += "".join(_content(m) for m in media)
    return hashlib.blake2b(payload.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
