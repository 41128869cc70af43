"""The campaign file, as a pydantic model: shapes, types and the syntax of every value.

What depends on the rest of the file or on config.yaml (anchors, channels, languages, times
that must fall outside blackouts) is checked afterwards, in campaigns.checks. Docstrings and
descriptions here end up in the JSON Schema, where editors show them: they are written for
the campaign manager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    WithJsonSchema,
)

from campaigns.blackouts import BlackoutPolicy
from campaigns.durations import Duration, PositiveDuration
from campaigns.localtime import zone
from campaigns.modelcheck import Guidance
from campaigns.problems import HintedError
from campaigns.recurrence import check_cron
from campaigns.timeexpr import DAY, TIME, TimeExpr, parse_day, parse_time
from campaigns.wording import closest

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_ANCHOR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LANGUAGE = re.compile(
    r"[a-zA-Z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-[A-Za-z\d]{5,8})*"
)
_CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HASHTAG = re.compile(r"[#\uff03]?(\w+)")  # ASCII or full-width number sign
TEMPLATE_FIELDS = ("campaign", "post", "channel", "platform", "language", "audience")
_TEMPLATE = re.compile(r"\{([^{}]*)\}")


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        fixed = "-".join(re.findall(r"[a-z0-9]+", value.lower().replace("_", "-")))
        example = fixed if fixed and fixed != value else "countdown-7d"
        raise HintedError(
            f"'{value}' is not a valid id",
            hint=f"use lowercase letters, digits and hyphens, such as '{example}'",
        )
    return value


def _anchor_name(value: str) -> str:
    if not _ANCHOR.fullmatch(value):
        raise HintedError(
            f"'{value}' is not a valid anchor name",
            hint="letters, digits and '_' only "
            "(no '-', which would read as an offset), such as 'sid' or 'launch_day'",
        )
    return value


def _words(value: str) -> str:
    if not value.strip():
        raise HintedError("this text is empty", hint="write the words, or remove the line")
    return value


def _localized(value: Any) -> Any:
    """Say what went wrong when a text was written in a shape YAML read differently."""
    if isinstance(value, list):
        raise HintedError(
            "this should be one text, or one text per language, not a list",
            hint="write each "
            "language as 'en: ...' on its own line, without '- '; for a chain of replies, use "
            "'thread:' instead of 'text:'",
        )
    if isinstance(value, dict) and len(value) == 1:
        (key, rest), *_ = value.items()
        if isinstance(key, str) and isinstance(rest, str) and not _LANGUAGE.fullmatch(key):
            text = f"{key}: {rest}"
            raise HintedError(
                f"YAML read '{text}' as a key and a value because of the ': '",
                hint=f'put the whole text in double quotes: "{text}"',
            )
    return value


LANGUAGE_NAMES = {
    "english": "en", "french": "fr", "français": "fr", "francais": "fr", "german": "de",
    "deutsch": "de", "dutch": "nl", "nederlands": "nl", "flemish": "nl", "spanish": "es",
    "español": "es", "espanol": "es", "italian": "it", "italiano": "it", "polish": "pl",
    "polski": "pl", "finnish": "fi", "suomi": "fi", "swedish": "sv", "svenska": "sv",
    "danish": "da", "dansk": "da", "norwegian": "no", "norsk": "no", "portuguese": "pt",
    "português": "pt", "greek": "el", "czech": "cs", "slovak": "sk", "slovenian": "sl",
    "hungarian": "hu", "romanian": "ro", "bulgarian": "bg", "croatian": "hr", "estonian": "et",
    "latvian": "lv", "lithuanian": "lt", "irish": "ga", "maltese": "mt", "ukrainian": "uk",
    "russian": "ru", "turkish": "tr", "arabic": "ar", "chinese": "zh", "japanese": "ja",
}  # fmt: skip
"""Language names people write instead of codes, for the hint."""


def _language(value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        code = LANGUAGE_NAMES.get(value.strip().lower())
        example = f"'{code}'" if code else "en, fr, de, nl or pt-BR"
        raise HintedError(
            f"'{value}' is not a language code", hint=f"use a BCP 47 code, such as {example}"
        )
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.fullmatch(value):
        raise HintedError(
            f"'{value}' is not a channel name",
            hint="use the names declared in config.yaml, such as x-main",
        )
    return value


def _zone(value: str) -> str:
    zone(value)
    return value


def _hashtag(value: str) -> str:
    match = _HASHTAG.fullmatch(value.strip())
    if not match or match.group(1).isdigit():
        raise HintedError(
            f"'{value}' is not a hashtag",
            hint="one word of letters, digits or '_', such as "
            "'#SayNo' (in quotes: YAML reads an unquoted # as the start of a comment)",
        )
    return "#" + match.group(1)


def _time(value: Any) -> TimeExpr:
    if not isinstance(value, str):
        raise HintedError(
            f"a time must be written as text, not {type(value).__name__}",
            hint="such as '2027-02-09 09:00' or 'sid - 7d 09:00'",
        )
    return parse_time(value)


def _anchor_value(value: Any) -> date | Literal["now"]:
    if value == "now":
        return "now"
    if isinstance(value, str) and DAY.fullmatch(value.strip()):
        return parse_day(value.strip())
    raise HintedError(
        f"anchor value {value!r} is not a date",
        hint="write a date as 2027-02-09, or 'now' "
        "for the moment the plan is loaded (demos and tests)",
    )


def _url(value: str) -> str:
    _template(value)
    parts = urlsplit(value) if " " not in value.strip() else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        bare = value.strip()
        example = "https://example.org/sayno"
        if parts is not None and not parts.scheme and "." in bare.split("/", 1)[0]:
            example = "https://" + bare
        raise HintedError(
            f"'{value}' is not a web address", hint=f"start it with https://, such as {example}"
        )
    return value.strip()


def _template(value: str) -> str:
    for name in _TEMPLATE.findall(value):
        if name not in TEMPLATE_FIELDS:
            close = closest(name.strip().lower(), TEMPLATE_FIELDS)
            meant = f"did you mean '{{{close}}}'? " if close else ""
            raise HintedError(
                f"unknown placeholder '{{{name}}}'",
                hint=f"{meant}available: " + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS),
            )
    return value


def _pattern(regex: re.Pattern[str]) -> str:
    """`regex` for JSON Schema: anchored (schema patterns match anywhere), with plain groups
    (editors read patterns as JavaScript, which names groups differently from Python)."""
    return "^" + re.sub(r"\(\?P<\w+>", "(?:", regex.pattern) + "$"


Slug = Annotated[str, AfterValidator(_slug), Field(json_schema_extra={"pattern": _pattern(_SLUG)})]
AnchorName = Annotated[
    str, AfterValidator(_anchor_name), Field(json_schema_extra={"pattern": _pattern(_ANCHOR)})
]
Language = Annotated[
    str,
    AfterValidator(_language),
    Field(json_schema_extra={"pattern": _pattern(_LANGUAGE), "examples": ["en", "fr", "pt-BR"]}),
]
ChannelName = Annotated[str, AfterValidator(_channel)]
ZoneName = Annotated[
    str,
    AfterValidator(_zone),
    Field(json_schema_extra={"examples": ["Europe/Brussels", "Europe/Helsinki", "UTC"]}),
]
Hashtag = Annotated[
    str, AfterValidator(_hashtag), Field(json_schema_extra={"examples": ["#SayNo"]})
]
NotAfter = PositiveDuration | Literal["none"]
Time = Annotated[
    TimeExpr,
    PlainValidator(_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _pattern(TIME),
            "description": "A date and time ('2027-02-09 09:00', '2027-02-09T08:00Z', "
            "'2027-02-09 09:00 Europe/Helsinki') or an anchor with an offset ('sid 12:00', "
            "'sid - 7d 09:00').",
            "examples": ["sid - 7d 09:00", "2027-02-09 09:00", "sid 12:00 Europe/Helsinki"],
        }
    ),
]
AnchorValue = Annotated[
    date | Literal["now"],
    PlainValidator(_anchor_value),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "format": "date"}, {"const": "now"}]},
    ),
]
Url = Annotated[str, AfterValidator(_url), Field(json_schema_extra={"format": "uri"})]
Template = Annotated[str, AfterValidator(_template)]
Status = Literal["approved", "draft"]

Words = Annotated[str, AfterValidator(_words), Field(json_schema_extra={"pattern": r"\S"})]
Localized = Annotated[Words | dict[Language, Words], BeforeValidator(_localized)]
"""One text for every language, or one per language code."""
FilePath = Annotated[str, Field(min_length=1)]
LocalizedFile = FilePath | dict[Language, FilePath]
"""One file for every language, or one per language code."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Utm(_Strict):
    """UTM parameters added to the link. Placeholders {campaign}, {post}, {channel}, {platform},
    {language} and {audience} are filled in for each delivery."""

    source: Template | None = Field(
        default=None, description="utm_source: where the visit comes from.", examples=["{platform}"]
    )
    medium: Template | None = Field(
        default=None, description="utm_medium: the kind of channel.", examples=["social"]
    )
    campaign: Template | None = Field(
        default=None, description="utm_campaign: the campaign's name.", examples=["{campaign}"]
    )
    content: Template | None = Field(
        default=None, description="utm_content: which post or variant.", examples=["{post}"]
    )
    term: Template | None = Field(default=None, description="utm_term.", examples=["{language}"])


class LinkSpec(_Strict):
    """A link with UTM tracking parameters."""

    url: Url = Field(
        description="The web address; {language}, {audience}, {post}, {campaign}, {channel} and "
        "{platform} are filled in for each delivery.",
        examples=["https://example.org/sayno", "https://example.org/{language}/sayno"],
    )
    utm: Utm | None = Field(default=None, description="Tracking parameters added to the address.")


OneLink = Literal["none"] | Url | LinkSpec


def _link_shape(value: Any) -> str:
    """Which kind of link a value is, so that a mistake is explained for that kind alone."""
    if isinstance(value, dict) and value and not {"url", "utm"} & value.keys():
        return "PerLanguage"
    return "One"


Link = Annotated[
    Annotated[OneLink, Tag("One")]
    | Annotated[
        dict[Language, OneLink],
        Tag("PerLanguage"),
        # for editors: a mapping with 'url' is one link, not a language called 'url'
        Field(json_schema_extra={"not": {"anyOf": [{"required": ["url"]}, {"required": ["utm"]}]}}),
    ],
    Discriminator(_link_shape),
]
LINK_DOC = (
    "A web address appended on its own line (or put where the text says {link}); a mapping "
    "{url, utm} adds tracking parameters; 'none' removes the campaign's default link; "
    "{en: ..., fr: ...} gives one link per language."
)


class MediaItem(_Strict):
    """An image or a video attached to the post."""

    file: str = Field(
        min_length=1,
        description="Path relative to the campaign file: an image (PNG, JPEG, GIF, WebP) or a "
        "video (MP4, MOV). Clarion reads what the file really holds (its format, and for a "
        "video its length, size, shape and frame rate) and checks it against each platform.",
        examples=["media/sayno-card.png", "media/sayno-clip.mp4"],
    )
    alt: Localized | None = Field(
        default=None,
        description="Alt text describing the image or video for people using screen readers: "
        "one text, or one per language. Required on every platform that supports it.",
    )
    captions: LocalizedFile | None = Field(
        default=None,
        description="A video's subtitles: an SRT or WebVTT file (path relative to the campaign "
        "file), or one per language ({en: media/clip.en.vtt, fr: media/clip.fr.vtt}); each "
        "post goes out with the captions of its language.",
        examples=["media/sayno-clip.en.vtt"],
    )
    thumbnail: FilePath | None = Field(
        default=None,
        description="A video's cover image (PNG or JPEG), shown before it plays, on the "
        "platforms that take one.",
        examples=["media/sayno-clip-cover.jpg"],
    )


def _media_shape(value: Any) -> str:
    return "PerLanguage" if isinstance(value, dict) else "One"


MediaList = Annotated[
    Annotated[list[MediaItem], Tag("One")]
    | Annotated[dict[Language, list[MediaItem]], Tag("PerLanguage")],
    Discriminator(_media_shape),
]
"""A list of media, or one list per language ({en: [...], fr: [...]})."""


class Override(_Strict):
    """What changes on one channel (or every channel of one platform)."""

    text: Localized | None = Field(default=None, description="Replaces the post's text.")
    thread: list[Localized] | None = Field(
        default=None, min_length=1, description="Replaces the post's thread."
    )
    hashtags: list[Hashtag] | None = Field(
        default=None,
        description="Replaces the post's own hashtags here (the campaign's stay required).",
    )
    link: Link | None = Field(default=None, description=LINK_DOC)
    media: MediaList | None = Field(default=None, description="Replaces the post's media.")


class Every(_Strict):
    """A recurring post: a cron rule or an interval, between two times (both included)."""

    model_config = ConfigDict(json_schema_extra={"required": ["from", "until"]})

    cron: Annotated[str, AfterValidator(check_cron)] | None = Field(
        default=None,
        description="Five fields: minute hour day-of-month month day-of-week, read on the "
        "local clock. Day of week: 0 or 7 = Sunday, 1 = Monday, or MON..SUN.",
        examples=["0 10 * * MON"],
    )
    interval: PositiveDuration | None = Field(
        default=None,
        description="Instead of cron: the time between posts, from 'from'. Days and weeks keep "
        "the local time of day.",
        examples=["2d", "1w"],
    )
    start: Time | None = Field(
        default=None,
        alias="from",
        description="First possible time; a day without a time means the start of that day.",
    )
    until: Time | None = Field(
        default=None,
        description="Last possible time; a day without a time means the end of that day.",
    )


class Post(_Strict):
    """One post: at one time or recurring, as one text or a thread."""

    id: Slug = Field(description="Unique in the campaign; part of every delivery key.")
    at: Time | None = Field(default=None, description="When the post goes out.")
    every: Every | None = Field(
        default=None, description="Instead of 'at': a recurring post (cron or interval)."
    )
    text: Localized | None = Field(
        default=None,
        description="The words: one text, or one per language.",
        examples=[{"en": "...", "fr": "..."}],
    )
    thread: list[Localized] | None = Field(
        default=None,
        min_length=1,
        description="Parts posted as a chain of replies; hashtags, link and media go on the "
        "first part.",
    )
    media: MediaList | None = Field(
        default=None,
        description="Images or videos, each with alt text; or one list per language.",
    )
    link: Link | None = Field(default=None, description=LINK_DOC)
    hashtags: list[Hashtag] = Field(
        default=[], description="Added to the campaign's hashtags for this post."
    )
    channels: list[ChannelName] | None = Field(
        default=None, description="Only these of the campaign's channels."
    )
    languages: list[Language] | None = Field(
        default=None, description="Only these of the campaign's languages."
    )
    audiences: list[Slug] | None = Field(
        default=None, description="Only these of the campaign's audiences."
    )
    overrides: dict[str, Override] = Field(
        default={},
        description="Per channel name or platform name (x, mastodon, bluesky, linkedin, "
        "telegram...): a channel's entry wins over its platform's.",
    )
    status: Status | None = Field(
        default=None, description="'draft' posts are previewed but never scheduled."
    )
    not_after: NotAfter | None = Field(
        default=None,
        description="How late the post may still go out ('none': no limit).",
    )
    timezone: ZoneName | None = Field(
        default=None,
        description="Reads this post's times in this zone, for every audience.",
    )
    ignore_blackouts: bool = Field(
        default=False,
        description="true: this post goes out even inside the campaign's blackouts (a live "
        "event that must happen while everything else waits).",
    )


class Audience(_Strict):
    """A group of readers: a language, a zone and the channels that reach them."""

    name: Slug = Field(description="Part of every delivery key.", examples=["be-fr"])
    language: Language | None = Field(
        default=None, description="One of the campaign's languages.", examples=["fr"]
    )
    timezone: ZoneName | None = Field(
        default=None, description="Posts go out at the written local time in this zone."
    )
    channels: list[ChannelName] | None = Field(
        default=None, description="The campaign's channels that reach this audience (default: all)."
    )


class Blackout(_Strict):
    """A period in which no post goes out (a national day of mourning, an incident). Posts
    that fall inside wait for its end (`then: postpone`) or are not posted (`then: skip`)."""

    start: Time = Field(alias="from", description="A day alone means the start of that day.")
    until: Time = Field(
        description="The end, not included (posting resumes at this time); a day alone means "
        "the end of that day."
    )
    reason: str = Field(min_length=1, description="Why: shown when a post falls inside.")
    channels: list[ChannelName] | None = Field(
        default=None, description="Only on these channels (default: all)."
    )
    then: BlackoutPolicy = Field(
        default="postpone",
        description="What happens to posts planned inside: 'postpone' (the default) sends them "
        "when the blackout ends, unless their not_after has passed by then (they expire); "
        "'skip' does not post them at all.",
    )


class Defaults(_Strict):
    """What every post of the campaign gets unless it says otherwise."""

    hashtags: list[Hashtag] = Field(
        default=[], description="Required on every post; added at the end when missing."
    )
    link: Link | None = Field(default=None, description=LINK_DOC)
    not_after: NotAfter | None = Field(
        default=None,
        description="How late a post may still go out before it expires ('none': no limit).",
        examples=["2h"],
    )
    media: MediaList | None = Field(
        default=None, description="Attached to posts that have no media of their own."
    )
    status: Status = Field(
        default="approved", description="'draft' keeps every post of the campaign unscheduled."
    )


class CampaignFile(_Strict):
    """A Clarion campaign: posts, when they go out, in which languages and on which channels."""

    model_config = ConfigDict(title="Clarion campaign")

    campaign: Slug = Field(description="The campaign's id, unique among all campaign files.")
    title: str = Field(min_length=1, description="Shown in previews and calendars.")
    timezone: ZoneName = Field(description="The zone of every time that names none.")
    anchors: dict[AnchorName, AnchorValue] = Field(
        default={},
        description="Named days that times refer to; moving one moves every post tied to it.",
        examples=[{"sid": "2027-02-09"}],
        json_schema_extra={"additionalProperties": False},
    )
    channels: list[ChannelName] = Field(
        min_length=1,
        description="The channels to post on: names from config.yaml.",
        examples=[["x-main", "mastodon-main"]],
    )
    languages: list[Language] = Field(
        default=[],
        description="The languages posts are written in (BCP 47 codes).",
        examples=[["en", "fr", "de"]],
    )
    audiences: list[Audience] = Field(
        default=[],
        description="The same post at the same local hour in each audience's zone.",
    )
    defaults: Defaults = Field(
        default=Defaults(), description="Hashtags, link, deadline and media of every post."
    )
    blackouts: list[Blackout] = Field(
        default=[], description="Periods in which no post may go out."
    )
    min_gap: Duration | None = Field(
        default=None, description="Warn when two posts on one channel are closer than this."
    )
    posts: list[Post] = Field(description="The posts of the campaign.")


GUIDANCE = Guidance(
    root=CampaignFile,
    short_names=True,
    shapes={
        "posts": "start each post with '- id: ...' on its own line, indented under 'posts:'",
        "posts[]": "a post is 'id:', 'at:' and 'text:' on lines of their own, below '- '",
        "media": "write each file as a list item: '- file: media/card.png', then 'alt: ...' "
        "on the next line, lined up with 'file'",
        "media[]": "give the path as 'file: media/card.png' and the description as 'alt: ...'",
        "every": "such as every: {cron: '0 10 * * MON', from: sid - 28d, until: sid + 14d}",
        "thread": "a thread is a list of parts, each on a line starting with '- '; for a single "
        "post, use 'text:'",
        "channels": "write them as a list, such as [x-main, mastodon-main]",
        "languages": "write them as a list, such as [en, fr]",
        "hashtags": 'write them as a list, in quotes: ["#SayNo", "#SaferInternetDay"]',
        "anchors": "write each anchor as 'name: date', such as anchors: {sid: 2027-02-09}",
        "audiences": "write each audience as a list item, such as "
        "'- {name: be-fr, language: fr, timezone: Europe/Brussels}'",
        "blackouts": "write each blackout as a list item, such as "
        "'- {from: sid 14:00, until: sid 16:00, reason: Live broadcast}'",
    },
)
"""How campaign files are checked beyond their model: see campaigns.modelcheck."""


@dataclass(frozen=True, slots=True)
class Campaign:
    """A loaded campaign file."""

    id: str
    title: str
    timezone: str
    file: str
    definition: CampaignFile
    """The file's content, checked against the model."""
