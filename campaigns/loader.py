"""Load campaign files into one plan: every delivery, every problem, never a traceback.

Each file is read, checked against the model, checked for references, then expanded; a file
with errors contributes no deliveries (its problems say why) while other files still do.
Timeline checks that span files (campaign ids, posts too close on one channel) run last.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from campaigns.blackouts import Safety
from campaigns.channels import KnownChannel
from campaigns.checks.references import POST_VALUES, check_campaign, empty_value
from campaigns.checks.timeline import check_blackouts, check_gaps, check_past
from campaigns.delivery import Delivery, DeliveryKey
from campaigns.expand import expand
from campaigns.model import GUIDANCE, Campaign, CampaignFile, Post
from campaigns.modelcheck import check_model
from campaigns.problems import InputError, Location, Problem, Problems
from campaigns.safety import read_safety
from campaigns.scope import PostSlots, Scope
from campaigns.yamlsource import Document, PathKey, SourceMap, read_yaml

SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadOptions:
    channels: Mapping[str, KnownChannel]
    """From config.yaml, or the built-in defaults."""
    strict_channels: bool
    """True when a config file was given: unknown channel names are errors. Otherwise they are
    warnings, and the platform is guessed from the name's prefix ("x-…", "mastodon-…")."""
    now: datetime
    """Aware; posts earlier than this are warned about, and it is the value of `now` anchors."""
    min_gap: timedelta = timedelta(minutes=30)
    default_not_after: timedelta | None = timedelta(hours=2)
    now_anchors: Mapping[str, datetime] = field(default_factory=dict)
    """By campaign id: what `now` anchors mean when the daemon fixed it earlier (else `now`)."""

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("LoadOptions.now must be an aware datetime, such as datetime.now(UTC)")


@dataclass
class Plan:
    """What the campaign files say, loaded: the deliveries to schedule and every problem."""

    campaigns: list[Campaign] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    """Drafts included (status "draft"), sorted by due time, channel and key."""
    held: list[Delivery] = field(default_factory=list)
    """The deliveries of files with errors, as they would be once the errors are fixed (in the
    same order): previews show them, marked; nothing schedules them."""
    problems: list[Problem] = field(default_factory=list)
    """Errors and warnings, sorted by file and position."""
    files: list[str] = field(default_factory=list)
    safety: dict[str, Safety] = field(default_factory=dict)
    """Each campaign's blackouts, read even from files with errors (see campaigns.blackouts)."""

    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


@dataclass(slots=True)
class _LoadedFile:
    """One campaign file that could be read: its campaign, checks, deliveries, min_gap slots."""

    campaign: Campaign
    scope: Scope
    deliveries: list[Delivery]
    slots: list[PostSlots]
    failed: bool = False
    """Whether the file has errors: its deliveries are held, not planned."""


def load_plan(paths: Sequence[Path], options: LoadOptions) -> Plan:
    """Load campaign files and folders (every *.yaml and *.yml inside, recursively)."""
    problems = Problems()
    result = Plan()
    loaded: list[_LoadedFile] = []
    for file, display in _files(paths, problems):
        result.files.append(display)
        found = Problems()
        try:
            outcome = _load_file(file, display, options, found, result.safety)
        except Exception as exc:  # a bug must not hide the problems found in other files
            found.error(
                Location(display, 1, 1),
                f"internal error while reading this file ({type(exc).__name__}: {exc})",
                "please report this to the Clarion maintainers with the file",
            )
            outcome = None
        problems.extend(found)
        if outcome is not None:
            outcome.failed = found.has_errors()
            result.campaigns.append(outcome.campaign)
            loaded.append(outcome)
    _check_ids(loaded, problems)
    gaps: list[PostSlots] = []
    for read in loaded:
        if read.failed:
            result.held += read.deliveries
        else:
            result.deliveries += read.deliveries
        gaps += read.slots  # a file with errors is compared too: its mistakes hide no warning
    check_gaps(gaps, problems)
    result.deliveries.sort(key=delivery_order)
    result.held.sort(key=delivery_order)
    result.problems = problems.sorted()
    return result


def delivery_order(d: Delivery) -> tuple[datetime, str, str, int]:
    """How deliveries are sorted: by time, channel, then thread part."""
    key = thread_key(d.key) if d.thread_size > 1 else d.key
    return (d.due_utc, d.channel, key, d.thread_index)


def thread_key(key: str) -> str:
    """`str(DeliveryKey.parse(key).thread)`: the key without its part number. A well-formed
    key of a thread's part is cut at its last '/' rather than parsed and written again (a
    tenth of loading a plan of long threads)."""
    parts = key.split("/")
    number = parts[-1]
    well_formed = len(parts) == 5 and all(parts) and number.isascii() and number.isdigit()
    if well_formed and not parts[1].endswith("@"):  # parsing drops an empty occurrence
        return key[: -len(number) - 1]
    return str(DeliveryKey.parse(key).thread)


def _files(paths: Sequence[Path], problems: Problems) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in SUFFIXES
                and not p.is_dir()  # a pipe or device named *.yaml is reported by read_yaml
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            candidates = [(p, str(p)) for p in inside]
            if not candidates:
                problems.warning(
                    Location(str(path), 1, 1), "this folder holds no .yaml or .yml files"
                )
        elif path.exists():
            candidates = [(path, str(path))]
        else:
            problems.error(
                Location(str(path), 1, 1),
                "no such file or folder",
                "check the path, relative to the current folder",
            )
            continue
        for file, display in candidates:
            resolved = file.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append((file, display))
    return found


def _load_file(
    file: Path, display: str, options: LoadOptions, problems: Problems, safety: dict[str, Safety]
) -> _LoadedFile | None:
    try:
        doc = read_yaml(file, display)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    if doc.data is None:
        problems.error(
            Location(display, 1, 1),
            "this campaign file is empty",
            "start with 'campaign: my-campaign-id', 'title:', 'timezone:', 'channels:' and "
            "'posts:'",
        )
        return None
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        problems.error(
            Location(display, 1, 1),
            f"a campaign file holds 'key: value' lines, starting with 'campaign:', not {kind}",
            "start with 'campaign: my-campaign-id', 'title:', 'timezone:' and 'channels:' lines; "
            "then put the posts, each starting with '- id:', under 'posts:'",
        )
        return None
    _read_safety(doc, options, safety)
    definition, posts, found = _validate(doc)
    problems.extend(found)
    if definition is None:
        return None
    if not isinstance(definition, CampaignFile):  # its own keys are wrong
        stand_in, exact = _stand_in(definition)
        if stand_in is None:
            return None
        if not exact:  # values were replaced: check the posts' references only
            check_campaign(_scope(doc, file, stand_in, posts, options, problems))
            return None
        definition = stand_in  # only unknown keys were left out: check everything else
    if not definition.posts and not found:
        problems.warning(doc.source.value(("posts",)), "this campaign has no posts")
    scope = _scope(doc, file, definition, posts, options, problems)
    check_campaign(scope)
    expansion = expand(scope, options.min_gap, options.default_not_after)
    check_blackouts(scope, expansion.deliveries, expansion.times)
    check_past(scope, expansion.deliveries, expansion.times)
    campaign = Campaign(
        definition.campaign, definition.title, definition.timezone, display, definition
    )
    return _LoadedFile(campaign, scope, expansion.deliveries, expansion.slots)


def _read_safety(doc: Document, options: LoadOptions, safety: dict[str, Safety]) -> None:
    """Add the file's blackouts to `safety` (two files with one campaign id: both files')."""
    name = doc.data.get("campaign") if isinstance(doc.data, dict) else None
    anchor_now = options.now
    if isinstance(name, str):
        anchor_now = options.now_anchors.get(name, options.now)
    found = read_safety(doc.data, doc.source, anchor_now)
    if found is None:
        return
    known = safety.get(found.campaign)
    if known is not None:
        found = Safety(
            found.campaign, known.windows + found.windows, known.exempt_posts | found.exempt_posts
        )
    safety[found.campaign] = found


def _scope(
    doc: Document,
    file: Path,
    definition: CampaignFile,
    posts: list[tuple[int, Post]],
    options: LoadOptions,
    problems: Problems,
) -> Scope:
    return Scope(
        doc.source,
        file.resolve().parent,
        definition,
        posts,
        options.channels,
        options.strict_channels,
        options.now,
        problems,
        anchor_now=options.now_anchors.get(definition.campaign),
    )


def _validate(
    doc: Document,
) -> tuple[CampaignFile | dict[str, object] | None, list[tuple[int, Post]], list[Problem]]:
    """The model, and the valid posts with their index in the file.

    When the file has mistakes, the campaign's own keys and each post are checked on their own,
    so that a mistake in one post does not hide the problems of the others. The campaign's
    keys then come back as a mapping (when the file has one) for `_stand_in`.
    """
    definition, problems = check_model(CampaignFile, doc, guidance=GUIDANCE)
    if definition is not None:
        return definition, list(enumerate(definition.posts)), []
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("posts"), list):
        return None, [], problems
    header, problems = check_model(
        CampaignFile, Document(doc.file, {**data, "posts": []}, doc.source), guidance=GUIDANCE
    )
    posts: list[tuple[int, Post]] = []
    for i, item in enumerate(data["posts"]):
        within = _Within(doc.file, doc.source.values, doc.source.keys, ("posts", i))
        part = Document(doc.file, item, within, ("posts", i))
        post, found = check_model(Post, part, guidance=GUIDANCE)
        problems += found
        if post is not None:
            posts.append((i, post))
        elif isinstance(item, dict):  # a mistake elsewhere in the post hides no empty value
            name = str(item.get("id", i + 1))
            for key in POST_VALUES:
                if key in item and item[key] is None:
                    message, hint = empty_value(key, name)
                    problems.append(Problem("error", message, within.key((key,)), hint))
    return header or data, posts, problems


_STAND_INS: dict[str, object] = {
    "campaign": "campaign",
    "title": "untitled",
    "timezone": "UTC",
    "defaults": {},
    "min_gap": None,
}
"""Values that take the place of the campaign's own when those are wrong, so that the posts'
references (anchors, channels, languages) are still checked: none of these is one."""


def _stand_in(header: dict[str, object]) -> tuple[CampaignFile | None, bool]:
    """The campaign's keys to check the posts against, when only keys that posts do not refer
    to are wrong (a misspelt time zone must not hide a misspelt anchor); else None. Unknown
    keys are left out; the flag says whether that is all that was done (no value replaced)."""
    data: dict[str, object] = copy.deepcopy({**header, "posts": []})
    try:
        return CampaignFile.model_validate(data), True
    except ValidationError as exc:
        errors = [err for err in exc.errors() if err["loc"]]
    left = [e for e in errors if not (e["type"] == "extra_forbidden" and _drop(data, e["loc"]))]
    wrong = {str(e["loc"][0]) for e in left}
    if not wrong <= _STAND_INS.keys():
        return None, False
    try:
        replaced = {k: _STAND_INS[k] for k in wrong}
        return CampaignFile.model_validate({**data, **replaced}), not replaced
    except ValidationError:
        return None, False


def _drop(data: object, loc: Sequence[str | int]) -> bool:
    """Remove the key at `loc` from nested mappings and lists; False when it is not there."""
    node = data
    for part in loc[:-1]:
        inside = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not inside:
            return False
        node = node[part]  # type: ignore[index]
    if isinstance(node, dict) and loc[-1] in node:
        del node[loc[-1]]
        return True
    return False


@dataclass(slots=True)
class _Within(SourceMap):
    """The source map of one part of a document, addressed by paths inside that part."""

    prefix: PathKey = ()

    def value(self, path: PathKey) -> Location:
        return SourceMap.value(self, self.prefix + path)

    def key(self, path: PathKey) -> Location:
        return SourceMap.key(self, self.prefix + path)


def _check_ids(loaded: list[_LoadedFile], problems: Problems) -> None:
    """A campaign id used by several files: an error in each, and none of them is planned."""
    by_id: dict[str, list[_LoadedFile]] = {}
    for file in loaded:
        by_id.setdefault(file.campaign.id, []).append(file)
    for same in by_id.values():
        if len(same) < 2:
            continue
        names = [file.campaign.file for file in same]
        for file in same:
            others = ", ".join(n for n in names if n != file.campaign.file)
            problems.error(
                file.scope.at("campaign"),
                f"campaign id '{file.campaign.id}' is also used by {others}",
                "give each campaign file an id of its own: delivery keys start with it",
            )
            file.failed = True
