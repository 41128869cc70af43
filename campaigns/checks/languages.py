"""Every language a post goes out in has its text, link and media; every language key is one
the campaign declares (with "did you mean" for a mistyped one)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from campaigns.model import Localized, MediaItem, Override, Post
from campaigns.scope import Scope, post_variants
from campaigns.wording import did_you_mean
from campaigns.yamlsource import PathKey


def check_defaults(scope: Scope) -> None:
    """A campaign's link or media given per language has every language of the campaign."""
    defaults = scope.definition.defaults
    for name, value in (("link", defaults.link), ("media", defaults.media)):
        if not isinstance(value, dict):
            continue
        path = ("defaults", name)
        missing = [lang for lang in scope.definition.languages if lang not in value]
        typos = _language_keys(scope, value, path, missing)
        missing = [lang for lang in missing if lang not in typos]
        if missing:
            scope.problems.error(
                scope.at(*path),
                f"the campaign's {name} has no version in {', '.join(missing)}",
                f"add {missing[0]}: ... to it ('{name}: none' for no {name} in that language)"
                if name == "link"
                else f"add {missing[0]}: [] to it for no media in that language",
            )


def check_post_languages(scope: Scope, post: Post, path: PathKey) -> None:
    """Every language key is declared; the post's own text has every language it needs."""
    needed = sorted({v.language for v in post_variants(scope, post) if v.language})
    texts: list[tuple[Localized, PathKey, bool]] = []
    if post.text is not None:
        texts.append((post.text, (*path, "text"), True))
    for i, part in enumerate(post.thread or []):
        texts.append((part, (*path, "thread", i), True))
    for name, override in post.overrides.items():
        texts += _override_texts(override, (*path, "overrides", name))
    texts += _alt_texts(post.media, (*path, "media"))
    per_language: list[tuple[Mapping[str, object], PathKey]] = []
    for value_path, value in _links_and_media(scope, post, path):
        if isinstance(value, dict):
            per_language.append((value, value_path))
    for value, where in per_language:
        missing = [lang for lang in needed if lang not in value]
        typos = _language_keys(scope, value, where, missing)
        missing = [lang for lang in missing if lang not in typos]
        if missing and where[0] == "posts" and "overrides" not in where:
            scope.problems.error(
                scope.at(*where),
                f"the {where[-1]} of post '{post.id}' has no version in {', '.join(missing)}",
                f"add {missing[0]}: ... to it, or leave {missing[0]} out of the post with "
                "'languages:'",
            )
    for value, where, complete in texts:
        if isinstance(value, str):
            continue
        missing = [lang for lang in needed if lang not in value]
        typos = _language_keys(scope, value, where, missing if complete else [])
        missing = [lang for lang in missing if lang not in typos]
        if complete and missing:
            what = "the text" if where[-1] == "text" else f"part {int(where[-1]) + 1} of the thread"
            scope.problems.error(
                scope.at(*where),
                f"{what} of post '{post.id}' has no version in {', '.join(missing)}",
                f"add {missing[0]}: ... to it, or leave {missing[0]} out of the post with "
                "'languages:'",
            )
    for name, override in post.overrides.items():
        if override.thread:
            _partial_thread(scope, override.thread, (*path, "overrides", name, "thread"), needed)


def _override_texts(override: Override, path: PathKey) -> list[tuple[Localized, PathKey, bool]]:
    found: list[tuple[Localized, PathKey, bool]] = []
    if override.text is not None:
        found.append((override.text, (*path, "text"), False))
    for i, part in enumerate(override.thread or []):
        found.append((part, (*path, "thread", i), False))
    return found + _alt_texts(override.media, (*path, "media"))


def _alt_texts(
    media: Sequence[MediaItem] | Mapping[str, Sequence[MediaItem]] | None, path: PathKey
) -> list[tuple[Localized, PathKey, bool]]:
    """The alt texts of a media list (or of each language's list)."""
    lists = media.items() if isinstance(media, Mapping) else [(None, media or [])]
    found: list[tuple[Localized, PathKey, bool]] = []
    for language, items in lists:
        base = path if language is None else (*path, language)
        found += [
            (item.alt, (*base, i, "alt"), False)
            for i, item in enumerate(items)
            if item.alt is not None
        ]
    return found


def _links_and_media(scope: Scope, post: Post, path: PathKey) -> list[tuple[PathKey, object]]:
    """The post's link and media values, its overrides' and the campaign's defaults', with
    where each is written."""
    found: list[tuple[PathKey, object]] = [
        ((*path, "link"), post.link),
        ((*path, "media"), post.media),
    ]
    for name, override in post.overrides.items():
        found += [
            ((*path, "overrides", name, "link"), override.link),
            ((*path, "overrides", name, "media"), override.media),
        ]
    return found


def _partial_thread(
    scope: Scope, parts: Sequence[Localized], path: PathKey, needed: Sequence[str]
) -> None:
    """An override thread may leave a language out entirely, but not from some parts only."""
    for lang in needed:
        has = [isinstance(p, str) or lang in p for p in parts]
        if any(has) and not all(has):
            part = has.index(False)
            scope.problems.error(
                scope.at(*path, part),
                f"part {part + 1} of this thread has no {lang} version while other parts do",
                f"add {lang}: ... to it, or remove {lang} from every part to keep the post's "
                "own thread in that language",
            )


def _language_keys(
    scope: Scope, value: Mapping[str, object], path: PathKey, missing: Sequence[str]
) -> set[str]:
    """Errors for language keys the campaign does not declare; returns the `missing`
    languages that one of them was probably meant to be (`fn` for `fr`)."""
    languages = scope.definition.languages
    if not languages:
        scope.problems.error(
            scope.at(*path),
            "this campaign declares no languages, so this must be a single text",
            "write the text directly, or list the languages under 'languages:'",
        )
        return set()
    unknown = [lang for lang in value if lang not in languages]
    meant: set[str] = set()
    for lang in unknown:
        hint = did_you_mean(lang, languages, "languages")
        if len(unknown) == 1 and len(missing) == 1 and _alike(lang, missing[0]):
            meant.add(missing[0])
            hint = f"did you mean '{missing[0]}'? This text has no {missing[0]} version yet"
        scope.problems.error(
            scope.key_at(*path, lang), f"'{lang}' is not one of this campaign's languages", hint
        )
    return meant


def _alike(written: str, meant: str) -> bool:
    """A language code probably mistyped for another: `fn` for `fr`, `EN` for `en`."""
    return difflib.SequenceMatcher(None, written.lower(), meant.lower()).ratio() >= 0.5
