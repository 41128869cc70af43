"""LinkedIn through the versioned Posts API (`POST /rest/posts`), as a member or a Page.

The post text (`commentary`) is in LinkedIn's "little text" format, where
`\\ | { } @ [ ] ( ) < > # * _ ~` are markup: an unescaped one can make LinkedIn keep only the
text before it, while still answering 201. `little_text()` escapes every reserved character
except the `#` of a hashtag, which becomes the documented template `{hashtag|\\#|word}`.

LinkedIn has no threads: a later thread part is posted as a comment on the first post.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, unquote

import httpx

from campaigns.platforms import PLATFORMS
from connectors.base import (
    Ambiguous,
    AuthFailed,
    Capabilities,
    ChannelAccess,
    CheckReport,
    Connector,
    Duplicate,
    Figures,
    FiguresUnavailable,
    LookupUnavailable,
    MediaFile,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
)
from connectors.figures import count, figures_error
from connectors.http import (
    build_client,
    json_body,
    retry_after,
    send,
    send_safe,
    server_error,
    warm,
)
from connectors.media import read_media
from connectors.platforms.linkedin.video import LinkedInVideos
from connectors.settings import is_loopback
from connectors.upload import Uploads

API = "https://api.linkedin.com"
DEFAULT_VERSION = "202609"
RESERVED = frozenset("\\|{}@[]()<>#*_~")
HASHTAG = re.compile(r"(?<!\w)#([^\W_]+)(?!\w)")
SHARE_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):\d+")
LOOKUP_COUNT = 50
LOOKUP_SLACK_MS = 3_600_000
"""How long before its due time a post may have been published (clock differences)."""


def little_text(text: str) -> str:
    """Plain text as LinkedIn "little" commentary: shown exactly as written."""
    out: list[str] = []
    position = 0
    for match in HASHTAG.finditer(text):
        if not any(char.isalpha() for char in match[1]):
            continue  # "#1" is a number, not a tag
        out.append(_escape(text[position : match.start()]))
        out.append(f"{{hashtag|\\#|{match[1]}}}")
        position = match.end()
    out.append(_escape(text[position:]))
    return "".join(out)


def _escape(text: str) -> str:
    return "".join(f"\\{char}" if char in RESERVED else char for char in text)


class LinkedInConnector(Connector):
    platform: ClassVar[str] = "linkedin"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["linkedin"], idempotency="lookup", lookup=True, figures=True
    )

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        self._token = config.credentials["access_token"]
        self._author = str(config.options["author"])
        self._version = str(config.options.get("linkedin_version") or DEFAULT_VERSION)
        self._client = build_client(
            config,
            API,
            headers={
                "Authorization": f"Bearer {self._token}",
                "LinkedIn-Version": self._version,
                "X-Restli-Protocol-Version": "2.0.0",
            },
        )
        self._uploads = Uploads(
            config.options.get("state_dir"), config.name, "linkedin", "LinkedIn"
        )
        self._videos = LinkedInVideos(
            self._client, self._author, self._classify, self._trusted, self._uploads
        )

    # -- publishing ---------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        root = post.thread_root or post.reply_to
        if root is not None:
            return self._comment(post, root)
        body: dict[str, Any] = {
            "author": self._author,
            "commentary": little_text(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        content = self._content(post)
        if content:
            body["content"] = content
        request = self._client.build_request("POST", "/rest/posts", json=body)
        response = send(self._client, request, "LinkedIn")
        if not response.is_success:
            raise self._classify(response, creates=True)
        urn = _created_urn(response)
        if not urn:
            raise Ambiguous(
                f"LinkedIn accepted the post ({response.status_code}) but did not say its id",
                status=response.status_code,
            )
        self._uploads.forget(post.key)
        return Published(post_ref(urn))

    def _content(self, post: Post) -> dict[str, Any] | None:
        if any(media.mime.startswith("video/") for media in post.media):
            if len(post.media) > 1:
                raise Rejected("a LinkedIn post with a video carries that video alone")
            video = post.media[0]
            shown = {"title": video.alt} if video.alt else {}
            return {"media": {"id": self._videos.upload(video, post.key), **shown}}
        images = [{"id": self._upload(media), "altText": media.alt} for media in post.media]
        if len(images) == 1:
            return {"media": images[0]}
        if images:
            return {"multiImage": {"images": images}}
        if post.link:
            return {"article": {"source": post.link, "title": _title(post)}}
        return None

    def _upload(self, media: MediaFile) -> str:
        """Register an image, then PUT its bytes where LinkedIn says; nothing is public yet."""
        request = self._client.build_request(
            "POST",
            "/rest/images",
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": self._author}},
        )
        response = send_safe(self._client, request, "LinkedIn")
        if not response.is_success:
            raise self._classify(response)
        body = json_body(response)
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, dict) or not value.get("uploadUrl") or not value.get("image"):
            raise RetryLater("LinkedIn's image upload answer lacked uploadUrl or image")
        upload = httpx.URL(str(value["uploadUrl"]))
        if not self._trusted(upload):
            raise Rejected(
                f"LinkedIn gave an upload address on {upload.host}; the token is sent only to "
                "linkedin.com"
            )
        put = self._client.build_request(
            "PUT",
            upload,
            content=read_media(media),
            headers={"Content-Type": "application/octet-stream"},
        )
        response = send_safe(self._client, put, "LinkedIn")
        if not response.is_success:
            raise self._classify(response)
        return str(value["image"])

    def _trusted(self, url: httpx.URL) -> bool:
        host = url.host
        own = self._client.base_url.host
        if host == own or (is_loopback(host) and is_loopback(own)):
            return True
        return url.scheme == "https" and (host == "linkedin.com" or host.endswith(".linkedin.com"))

    def _comment(self, post: Post, root: PlatformRef) -> Published:
        """A later thread part, as a comment on the first post (sent as plain text: the
        Comments API carries text and attributes, not little text)."""
        if post.media:
            raise Rejected(
                "a later thread part goes on LinkedIn as a comment, and Clarion's comments "
                "carry text only: remove its media or post it as a separate post"
            )
        body = {"actor": self._author, "object": root.id, "message": {"text": post.text}}
        path = f"/rest/socialActions/{quote(root.id, safe='')}/comments"
        response = send(
            self._client, self._client.build_request("POST", path, json=body), "LinkedIn"
        )
        if response.status_code == 403:
            raise Rejected(
                "LinkedIn refused to publish this thread part as a comment (403): commenting "
                "through the API needs the Community Management API product for the app",
                status=403,
                code=_code(json_body(response)),
            )
        if not response.is_success:
            raise self._classify(response, creates=True)
        created = json_body(response)
        created = created if isinstance(created, dict) else {}
        urn = str(created.get("commentUrn") or created.get("$URN") or _created_urn(response))
        url = f"https://www.linkedin.com/feed/update/{root.id}/?commentUrn={quote(urn, safe='')}"
        return Published(PlatformRef(urn, url, {"root": root.id}))

    # -- errors -------------------------------------------------------------------------

    def _classify(self, response: httpx.Response, *, creates: bool = False) -> PublishError:
        """LinkedIn has no idempotency key: a 5xx to a post or comment being created is
        ambiguous, and settled by a look-up of the author's posts (or its duplicate error)."""
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        status = response.status_code
        message = str(body.get("message") or response.reason_phrase)
        code = _code(body)
        kw: dict[str, Any] = {"status": status, "code": code}
        if status == 422 and "DUPLICATE_POST" in _input_errors(body):
            found = SHARE_URN.search(message)
            existing = post_ref(found[0]) if found else None
            return Duplicate(
                f"LinkedIn says this post exists already: {message}", existing=existing, **kw
            )
        if status == 429:
            return RetryLater(
                f"LinkedIn rate limit: {message} (LinkedIn's daily limits reset at midnight UTC)",
                retry_at=retry_after(response.headers.get("retry-after")),
                **kw,
            )
        if status >= 500:
            reason = f"LinkedIn answered {status}: {message}"
            return server_error(reason, harmless=not creates, **kw)
        if status == 401:
            return AuthFailed(
                f"LinkedIn refused the access token ({message}): tokens last 60 days; sign in "
                "again and update credentials.access_token",
                **kw,
            )
        if status == 403:
            return AuthFailed(
                f"LinkedIn denied access ({message}): the token needs the w_member_social or "
                "w_organization_social scope, and a Page role for an organization author",
                **kw,
            )
        if status == 426:
            return AuthFailed(
                f"LinkedIn no longer serves API version {self._version} ({message}): set "
                "options.linkedin_version to a current YYYYMM version",
                **kw,
            )
        return Rejected(f"LinkedIn refused the post ({status}): {message}", **kw)

    # -- lookup and check ---------------------------------------------------------------

    def lookup(self, post: Post) -> PlatformRef | None:
        """Among the author's latest posts, one with this exact commentary, made since it
        was due. LinkedIn lets apps list an organization's posts only."""
        if post.thread_root or post.reply_to:
            raise LookupUnavailable("Clarion does not look through LinkedIn comments")
        if not self._author.startswith("urn:li:organization:"):
            raise LookupUnavailable("LinkedIn does not let apps list a member's posts")
        request = self._client.build_request(
            "GET",
            "/rest/posts",
            params={
                "author": self._author,
                "q": "author",
                "count": str(LOOKUP_COUNT),
                "sortBy": "LAST_MODIFIED",
            },
            headers={"X-RestLi-Method": "FINDER"},
        )
        response = send_safe(self._client, request, "LinkedIn")
        if response.status_code == 403:
            raise LookupUnavailable(
                "listing the Page's posts needs the r_organization_social scope"
            )
        if not response.is_success:
            raise self._classify(response)
        body = json_body(response)
        elements = body.get("elements") if isinstance(body, dict) else None
        elements = [e for e in elements or [] if isinstance(e, dict)]
        since = post.due.timestamp() * 1000 - LOOKUP_SLACK_MS
        commentary = little_text(post.text)
        for element in elements:
            if element.get("commentary") == commentary and _when(element) >= since:
                return post_ref(str(element.get("id")))
        if len(elements) >= LOOKUP_COUNT and min(map(_when, elements)) >= since:
            raise LookupUnavailable(
                f"the Page made more than {LOOKUP_COUNT} posts since this one was due"
            )
        return None

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {"max_length": rules.max_length, "max_media": rules.max_media}
        if self._author.startswith("urn:li:organization:"):
            path, field = f"/rest/organizations/{self._author.rsplit(':', 1)[1]}", "localizedName"
        else:
            path, field = "/v2/userinfo", "name"
        try:
            response = send_safe(self._client, self._client.build_request("GET", path), "LinkedIn")
        except PublishError as unreachable:
            problems = [unreachable.reason]
            return CheckReport(ok=False, account=self._author, limits=limits, problems=problems)
        body = json_body(response)
        if response.is_success and isinstance(body, dict):
            return CheckReport(ok=True, account=str(body.get(field) or self._author), limits=limits)
        if response.status_code == 403:  # this read needs a scope that posting does not
            return CheckReport(ok=True, account=self._author, limits=limits)
        problems = [self._classify(response).reason]
        return CheckReport(ok=False, account=self._author, limits=limits, problems=problems)

    # -- figures ------------------------------------------------------------------------

    def figures(self, ref: PlatformRef) -> Figures:
        """A Page post's lifetime statistics (`organizationalEntityShareStatistics`, which
        needs the rw_organization_admin scope and the Page's ADMINISTRATOR role). LinkedIn
        gives apps no statistics for a member's posts, nor for comments."""
        if not self._author.startswith("urn:li:organization:"):
            raise FiguresUnavailable(
                "LinkedIn gives statistics for a Page's posts only, not a member's",
                why="unsupported",
            )
        kind = _STATISTICS_KEY.get(ref.id.split(":")[2] if ref.id.count(":") >= 3 else "")
        if kind is None:
            raise FiguresUnavailable(
                f"LinkedIn gives no statistics for {ref.id} (a comment?)", why="unsupported"
            )
        query = (
            f"q=organizationalEntity&organizationalEntity={quote(self._author, safe='')}"
            f"&{kind}=List({quote(ref.id, safe='')})"
        )
        # Built by hand: Rest.li wants `List(...)` as is, with the URNs inside encoded.
        path = f"/rest/organizationalEntityShareStatistics?{query}"
        response = send_safe(self._client, self._client.build_request("GET", path), "LinkedIn")
        if response.status_code == 403:
            raise FiguresUnavailable(
                f"LinkedIn denied the post's statistics ({_message(response)}): reading them "
                "needs the rw_organization_admin scope and the ADMINISTRATOR role on the Page",
                why="not-permitted",
            )
        if response.status_code == 404:
            self._raise_if_gone(ref)
        if not response.is_success:
            raise self._figures_error(response)
        body = json_body(response)
        elements = body.get("elements") if isinstance(body, dict) else None
        found = next(
            (
                e
                for e in elements or ()
                if isinstance(e, dict) and ref.id in (e.get("share"), e.get("ugcPost"))
            ),
            None,
        )
        if found is None:
            self._raise_if_gone(ref)
            raise RetryLater(f"LinkedIn has no statistics for {ref.id} yet")
        totals = found.get("totalShareStatistics") or {}
        unique = count(totals.get("uniqueImpressionsCount"))
        return Figures(
            likes=count(totals.get("likeCount")),
            reposts=count(totals.get("shareCount")),
            replies=count(totals.get("commentCount")),
            views=count(totals.get("impressionCount")),
            clicks=count(totals.get("clickCount")),
            extra={"unique_impressions": unique} if unique is not None else {},
        )

    def _raise_if_gone(self, ref: PlatformRef) -> None:
        """FiguresUnavailable("gone") when the post itself answers 404."""
        path = f"/rest/posts/{quote(ref.id, safe='')}"
        response = send_safe(self._client, self._client.build_request("GET", path), "LinkedIn")
        if response.status_code == 404:
            raise FiguresUnavailable(f"the post {ref.id} was deleted from LinkedIn", why="gone")
        if response.status_code == 429 or response.status_code >= 500:
            raise self._figures_error(response)

    def _figures_error(self, response: httpx.Response) -> RetryLater | FiguresUnavailable:
        """As for any call, except that a 429 without Retry-After waits for midnight UTC,
        when LinkedIn's daily limits reset: figures can wait, posts should not."""
        error = figures_error(self._classify(response))
        if response.status_code == 429 and isinstance(error, RetryLater) and not error.retry_at:
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            error.retry_at = today + timedelta(days=1)
        return error

    def warm(self) -> None:
        warm(self._client)

    def close(self) -> None:
        self._client.close()


def post_ref(urn: str) -> PlatformRef:
    return PlatformRef(urn, f"https://www.linkedin.com/feed/update/{urn}/")


def _title(post: Post) -> str:
    """The link card's title: the post's first line without its links, else the site."""
    for line in post.text.splitlines():
        words = [word for word in line.split() if "://" not in word]
        if words:
            title = " ".join(words)
            return title if len(title) <= 200 else title[:199].rsplit(" ", 1)[0] + "…"
    return httpx.URL(post.link or "").host


def _created_urn(response: httpx.Response) -> str:
    """What LinkedIn created: the `x-restli-id` header (URL-encoded by some versions), else
    the `id` of a returned entity."""
    urn = unquote(response.headers.get("x-restli-id", ""))
    body = json_body(response)
    if not urn and isinstance(body, dict) and isinstance(body.get("id"), str):
        urn = body["id"]
    return urn


_STATISTICS_KEY = {"share": "shares", "ugcPost": "ugcPosts"}
"""The statistics query's parameter for each kind of post URN."""


def _message(response: httpx.Response) -> str:
    body = json_body(response)
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or response.reason_phrase)


def _code(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("code"):
        return str(body["code"])
    return None


def _input_errors(body: dict[str, Any]) -> list[str]:
    details = body.get("errorDetails")
    errors = details.get("inputErrors") if isinstance(details, dict) else None
    return [str(e.get("code")) for e in errors or [] if isinstance(e, dict)]


def _when(element: dict[str, Any]) -> float:
    stamp = element.get("publishedAt") or element.get("createdAt") or 0
    return float(stamp) if isinstance(stamp, int | float) else 0.0
