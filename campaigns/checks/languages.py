"""Every language a post goes out in has its text, link and media; every language key is one
the campaign declares (with "did you mean" for a mistyped one)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

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
    texts: list[_Written] = []
    if post.text is not None:
        texts.append(_Written(post.text, (*path, "text"), complete=True))
    for i, part in enumerate(post.thread or []):
        texts.append(_Written(part, (*path, "thread", i), complete=True))
    for name, override in post.overrides.items():
        texts += _override_texts(override, (*path, "overrides", name))
    texts += _media_texts(post.media, (*path, "media"))
    for value, where in _links_and_media(post, path):
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
    for text in texts:
        if isinstance(text.value, str):
            continue
        where = text.where
        missing = [lang for lang in needed if lang not in text.value]
        typos = _language_keys(scope, text.value, where, missing if text.complete else [])
        missing = [lang for lang in missing if lang not in typos]
        if text.complete and missing:
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


@dataclass(frozen=True, slots=True)
class _Written:
    """A text of the post, with where it is written."""

    value: Localized
    where: PathKey
    complete: bool = False
    """Whether it must have every language of the post: an override's text, or an alt text,
    may leave some out."""


def _override_texts(override: Override, path: PathKey) -> list[_Written]:
    found: list[_Written] = []
    if override.text is not None:
        found.append(_Written(override.text, (*path, "text")))
    for i, part in enumerate(override.thread or []):
        found.append(_Written(part, (*path, "thread", i)))
    return found + _media_texts(override.media, (*path, "media"))


def _media_texts(
    media: Sequence[MediaItem] | Mapping[str, Sequence[MediaItem]] | None, path: PathKey
) -> list[_Written]:
    """The alt texts and caption files of a media list (or of each language's list): their
    language keys are checked, and they may leave languages out."""
    lists = media.items() if isinstance(media, Mapping) else [(None, media or [])]
    found: list[_Written] = []
    for language, items in lists:
        base = path if language is None else (*path, language)
        for i, item in enumerate(items):
            found += [
                _Written(value, (*base, i, name))
                for name, value in (("alt", item.alt), ("captions", item.captions))
                if value is not None
            ]
    return found


def _links_and_media(post: Post, path: PathKey) -> Iterator[tuple[Mapping[str, object], PathKey]]:
    """The post's and its overrides' link and media values given per language, with where each
    is written."""
    values: list[tuple[PathKey, object]] = [
        ((*path, "link"), post.link),
        ((*path, "media"), post.media),
    ]
    for name, override in post.overrides.items():
        values += [
            ((*path, "overrides", name, "link"), override.link),
            ((*path, "overrides", name, "media"), override.media),
        ]
    for where, value in values:
        if isinstance(value, dict):
            yield value, where


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
