"""X (Twitter) through tweepy: `POST /2/tweets`, threads as reply chains, v2 media uploads.

tweepy 4.17 hard-codes https://api.twitter.com, sets no time-out and logs request headers,
bearer token included, at DEBUG. `_Api` overrides its one request method to fix all three,
so every tweepy call and our own media calls share one session, credentials and base URL.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
import tweepy
import urllib3

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
    PlatformBudget,
    PlatformRef,
    Post,
    Published,
    PublishError,
    Rejected,
    RetryLater,
    before_sending,
)
from connectors.figures import count, figures_error
from connectors.http import USER_AGENT, epoch_reset, retry_after, server_error
from connectors.login import LoginIO
from connectors.platforms.x import media as x_media
from connectors.platforms.x.auth import UserAuth, json_object, user_auth
from connectors.ratelimits import header_budget, retry_time
from connectors.redaction import excerpt
from connectors.settings import base_url_problem
from connectors.upload import Uploads

DEFAULT_BASE_URL = "https://api.x.com"
WEB_URL = "https://x.com"
LOOKUP_SKEW = timedelta(minutes=10)
"""How long before its due time a delivery's post is looked for (clocks differ)."""
LOOKUP_PAGES = 5
PRIVATE_METRICS_AGE = timedelta(days=30)
"""X gives a post's non-public metrics (link clicks) to its author for 30 days."""
TWITTER_EPOCH_MS = 1_288_834_974_657
PAID_PLAN = "figures need X's Basic API plan or above; the Free plan reads no posts"

_WINDOWS = (
    ("x-rate-limit", "requests per 15 min"),
    ("x-user-limit-24hour", "posts per 24 h for this account"),
    ("x-app-limit-24hour", "posts per 24 h for the app"),
)


class _QuietSigning(logging.Filter):
    """oauthlib and requests-oauthlib log every signed request at DEBUG, access token and
    all: those lines are dropped where they are made, before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_QUIET = _QuietSigning()
for _name in (
    "oauthlib.oauth1.rfc5849",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
):
    logging.getLogger(_name).addFilter(_QUIET)


class _Api(tweepy.Client):  # type: ignore[misc]  # tweepy has no type hints
    def __init__(self, base_url: str, user: UserAuth, timeout: float) -> None:
        super().__init__(return_type=requests.Response)
        self.base_url = base_url
        self.user = user
        self.timeout = (min(10.0, timeout), timeout)

    def request(
        self,
        method: str,
        route: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        user_auth: bool = False,
        *,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> requests.Response:
        """Every call speaks for the channel's user, whatever `user_auth` says, on a new
        connection: through requests, a first write that fails on a kept connection cannot
        be told from a request that left (connectors.http.FRESH_CONNECTIONS). requests has
        no switch for it, so the pools are emptied first."""
        self.session.close()
        response: requests.Response = self.session.request(
            method,
            self.base_url + route,
            params=params,
            json=json,
            data=data,
            files=files,
            headers={"User-Agent": USER_AGENT},
            auth=self.user.requests_auth(),
            timeout=self.timeout,
            allow_redirects=False,
        )
        return response


def _not_sent(exc: requests.RequestException) -> bool:
    """requests wraps in MaxRetryError only what failed while connecting (refused, DNS, TLS
    handshake, connect time-out); anything later may have reached X."""
    return bool(exc.args) and isinstance(exc.args[0], urllib3.exceptions.MaxRetryError)


def _errors(problem: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = problem.get("errors")
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _is_duplicate(problem: Mapping[str, Any]) -> bool:
    """X marks a duplicate post with v1.1 code 187, or (v2) a 403 problem whose type is
    `about:blank`: only its detail names it. X's API messages are never localized, so that
    English detail is a stable signal, used only when no structured one is there."""
    if any(e.get("code") == 187 for e in _errors(problem)):
        return True
    kind = str(problem.get("type") or "")
    if "duplicate" in kind:
        return True
    return "duplicate content" in str(problem.get("detail") or "").lower()


def _refuses_the_media(problem: Mapping[str, Any]) -> bool:
    """X refuses a video longer than the account may post with a 403 whose detail alone says
    so ("This user is not allowed to post a video longer than N minutes."): about this post,
    not the credentials, so the channel is not held."""
    return "not allowed to post a video" in str(problem.get("detail") or "").lower()


def budgets(headers: Mapping[str, str], endpoint: str) -> list[PlatformBudget]:
    found = (
        header_budget(headers, prefix, f"{scope} ({endpoint})", epoch_reset)
        for prefix, scope in _WINDOWS
    )
    return [budget for budget in found if budget]


def classify(response: requests.Response, action: str, *, creates: bool = False) -> PublishError:
    """The error an X answer means; by status and structured codes only. X has no
    idempotency key and documents no server error as meaning "nothing was made", so a 5xx
    to a post being created is ambiguous; a look-up of the timeline settles it."""
    status = response.status_code
    problem = json_object(response)
    messages = [str(problem["detail"])] if problem.get("detail") else []
    messages += [str(e["message"]) for e in _errors(problem) if e.get("message")]
    code = problem.get("type") or next(
        (str(e["code"]) for e in _errors(problem) if "code" in e), None
    )
    detail = excerpt("; ".join(dict.fromkeys(messages)), 300)
    reason = f"X refused to {action} ({status}{': ' + detail if detail else ''})"
    kw: dict[str, Any] = {"status": status, "code": str(code) if code else None}
    headers = response.headers
    if status == 429:
        limits = budgets(headers, action)
        when = retry_time(limits, retry_after(headers.get("retry-after")))
        return RetryLater(reason, retry_at=when, **kw)
    if status == 401:
        return AuthFailed(reason, **kw)
    if status == 403:
        if _is_duplicate(problem):
            return Duplicate(reason, **kw)
        if _refuses_the_media(problem):
            return Rejected(reason, **kw)
        return AuthFailed(reason, **kw)
    if status in (404, 405):
        return AuthFailed(f"{reason}: is the channel's base_url right?", **kw)
    if status >= 500:
        when = retry_after(headers.get("retry-after"))
        return server_error(reason, harmless=not creates, retry_at=when, **kw)
    return Rejected(reason, **kw)


def _age(post_id: str) -> timedelta:
    """How old a post is, from its id (a snowflake: milliseconds since 2010 in its top bits)."""
    try:
        made = (int(post_id) >> 22) + TWITTER_EPOCH_MS
    except ValueError:
        return PRIVATE_METRICS_AGE
    return datetime.now(UTC) - datetime.fromtimestamp(made / 1000, UTC)


def _comparable(text: str) -> str:
    """Text as X shows it back and as we sent it, made comparable: X escapes &, < and >,
    and replaces every link, with or without a scheme, by a t.co one."""
    text = html.unescape(unicodedata.normalize("NFC", text))
    text = re.sub(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)+(?:/\S*)?", " ", text)
    return " ".join(text.split())


class XConnector(Connector):
    platform: ClassVar[str] = "x"
    capabilities: ClassVar[Capabilities] = Capabilities(
        rules=PLATFORMS["x"], idempotency="lookup", lookup=True, figures=True
    )

    def __init__(self, config: ChannelAccess) -> None:
        super().__init__(config)
        base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        problem = base_url_problem(base)
        if problem:
            raise ValueError(problem)
        self._user = user_auth(config)
        self._api = _Api(base, self._user, config.timeout)
        self._account: tuple[str, str] | None = None
        self.media_timeout = float(config.options.get("media_timeout", 300))
        self._uploads = Uploads(config.options.get("state_dir"), config.name, "x", "X")

    # -- requests ----------------------------------------------------------------------

    def _send(self, call: Callable[[], requests.Response], creates: bool) -> requests.Response:
        before_sending()
        try:
            return call()
        except requests.RequestException as exc:
            if creates and not _not_sent(exc):
                raise Ambiguous(
                    f"{type(exc).__name__} after sending to X: the post may have gone out"
                ) from None
            raise RetryLater(f"could not reach X: {type(exc).__name__}") from None

    def _call(
        self, call: Callable[[], requests.Response], action: str, *, creates: bool = False
    ) -> requests.Response:
        response = self._send(call, creates)
        if response.status_code == 401 and self._user.refresh(
            self._api.session, self._api.base_url, self._api.timeout[1]
        ):
            response = self._send(call, creates)
        if response.status_code >= 400:
            raise classify(response, action, creates=creates)
        return response

    def _json(self, call: Callable[[], requests.Response], action: str) -> dict[str, Any]:
        body = json_object(self._call(call, action))
        if not isinstance(body.get("data"), dict | list):
            raise RetryLater(f"X answered without data when asked to {action}")
        return body

    def _media_call(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        def call() -> requests.Response:
            return self._api.request(method, route, params, json, data=data, files=files)

        return json_object(self._call(call, "take the media"))

    def _me(self) -> tuple[str, str]:
        """The account's id and username, asked once."""
        if self._account is None:
            data = self._json(lambda: self._api.get_me(), "read the account")["data"]
            self._account = (str(data["id"]), str(data["username"]))
        return self._account

    def close(self) -> None:
        self._api.session.close()

    def secrets(self) -> list[str]:
        return super().secrets() + self._user.secrets()

    def _url(self, post_id: str) -> str:
        handle = (self.config.account or "").lstrip("@")
        if handle:
            return f"{WEB_URL}/{handle}/status/{post_id}"
        return f"{WEB_URL}/i/web/status/{post_id}"

    # -- the contract ------------------------------------------------------------------

    def publish(self, post: Post) -> Published:
        media_ids = [self._upload(post.key, i, media) for i, media in enumerate(post.media)]
        response = self._call(
            lambda: self._api.create_tweet(
                text=post.text,
                media_ids=media_ids or None,
                in_reply_to_tweet_id=post.reply_to.id if post.reply_to else None,
            ),
            "create the post",
            creates=True,
        )
        data = json_object(response).get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise Ambiguous("X accepted the post but did not say its id")
        post_id = str(data["id"])
        self._uploads.forget(post.key)
        return Published(PlatformRef(post_id, self._url(post_id)))

    def _upload(self, key: str, index: int, media: MediaFile) -> str:
        """The file's media id; an earlier attempt's upload of the same file is used while
        X holds it (after a crash, or when X was still processing it at the deadline)."""
        earlier, record = self._uploads.earlier(key, index, media.path)
        begun, progress = self._uploads.unfinished(key, index, media.path)
        return x_media.upload(
            self._media_call,
            media,
            timeout=self.media_timeout,
            earlier=earlier,
            uploaded=record,
            begun=begun,
            progress=progress,
        )

    def check(self) -> CheckReport:
        rules = self.capabilities.rules
        limits = {
            "max_length": rules.max_length,
            "max_media": rules.max_media,
            "alt_max": rules.alt_max or 0,
            "image_max_bytes": rules.image_max_bytes,
        }
        try:
            response = self._call(lambda: self._api.get_me(), "read the account")
        except PublishError as exc:
            return CheckReport(ok=False, limits=limits, problems=[exc.reason])
        data = json_object(response).get("data") or {}
        self._account = (str(data.get("id")), str(data.get("username")))
        return CheckReport(
            ok=True,
            account=f"@{data.get('username')}",
            limits=limits,
            budgets=budgets(response.headers, "GET /2/users/me"),
            figures=self._figures_plan(str(data.get("id"))),
        )

    def _figures_plan(self, user_id: str) -> str:
        """Which figures the account's API plan gives: one read of its latest posts tells."""

        def call() -> requests.Response:
            response: requests.Response = self._api.get_users_tweets(
                user_id, max_results=5, tweet_fields=["public_metrics"]
            )
            return response

        try:
            self._call(call, "read the account's posts")
        except AuthFailed as exc:
            return PAID_PLAN if exc.status == 403 else f"cannot tell: {exc.reason}"
        except PublishError as exc:
            return f"cannot tell now: {exc.reason}"
        return (
            "likes, reposts, replies, quotes, bookmarks and views (public metrics); link and "
            "profile clicks for the first 30 days (non-public metrics)"
        )

    def figures(self, ref: PlatformRef) -> Figures:
        """`GET /2/tweets/:id` with its public metrics, and its non-public ones (link and
        profile clicks) while X gives them to the author (30 days). A deleted post answers
        200 with a `resource-not-found` error and no data."""
        fields = ["public_metrics"]
        if _age(ref.id) < PRIVATE_METRICS_AGE:
            fields.append("non_public_metrics")

        def call() -> requests.Response:
            response: requests.Response = self._api.get_tweet(ref.id, tweet_fields=fields)
            return response

        try:
            body = json_object(self._call(call, "read the post's figures"))
        except AuthFailed as exc:
            if exc.status == 403:
                raise FiguresUnavailable(
                    f"{exc.reason}: {PAID_PLAN}", why="not-permitted"
                ) from None
            raise figures_error(exc) from None
        except PublishError as exc:
            raise figures_error(exc) from None
        data = body.get("data")
        if not isinstance(data, dict):
            kinds = {str(e.get("type", "")).rsplit("/", 1)[-1] for e in _errors(body)}
            detail = "; ".join(str(e.get("detail")) for e in _errors(body) if e.get("detail"))
            if "resource-not-found" in kinds:
                raise FiguresUnavailable(f"X: {detail or 'the post was deleted'}", why="gone")
            if "not-authorized-for-resource" in kinds:
                raise FiguresUnavailable(f"X: {detail}", why="not-permitted")
            raise RetryLater(f"X answered the post's figures without data ({detail})")
        public = data.get("public_metrics") or {}
        private = data.get("non_public_metrics") or {}
        extra = {
            name: value
            for name, value in (
                ("bookmarks", count(public.get("bookmark_count"))),
                ("profile_clicks", count(private.get("user_profile_clicks"))),
            )
            if value is not None
        }
        return Figures(
            likes=count(public.get("like_count")),
            reposts=count(public.get("retweet_count")),
            replies=count(public.get("reply_count")),
            quotes=count(public.get("quote_count")),
            views=count(public.get("impression_count")),
            clicks=count(private.get("url_link_clicks")),
            extra=extra,
        )

    def lookup(self, post: Post) -> PlatformRef | None:
        """Find the post among the account's own recent posts: same text once links are set
        aside (X rewrites them), same reply parent, created after the due time less ten
        minutes. A weak check: X's timeline can lag a few seconds behind a new post."""
        try:
            user_id, _ = self._me()
            wanted = _comparable(post.text)
            since = min(post.due - LOOKUP_SKEW, datetime.now(UTC) - timedelta(minutes=1))
            token: str | None = None
            for _ in range(LOOKUP_PAGES):
                body = json_object(self._call(self._timeline(user_id, since, token), "list posts"))
                for tweet in body.get("data") or ():
                    if self._matches(tweet, post, wanted):
                        return PlatformRef(str(tweet["id"]), self._url(str(tweet["id"])))
                token = (body.get("meta") or {}).get("next_token")
                if not token:
                    return None
        except AuthFailed as exc:
            if exc.status == 403:
                raise LookupUnavailable(f"{exc.reason} (the API plan may not allow it)") from None
            raise
        raise LookupUnavailable(
            f"more than {LOOKUP_PAGES * 100} posts since the due time: cannot tell"
        )

    def _timeline(
        self, user_id: str, since: datetime, token: str | None
    ) -> Callable[[], requests.Response]:
        def call() -> requests.Response:
            response: requests.Response = self._api.get_users_tweets(
                user_id,
                start_time=since,
                max_results=100,
                pagination_token=token,
                tweet_fields=["created_at", "referenced_tweets", "note_tweet"],
            )
            return response

        return call

    @staticmethod
    def _matches(tweet: Mapping[str, Any], post: Post, wanted: str) -> bool:
        if post.reply_to is not None:
            parents = [
                ref.get("id")
                for ref in tweet.get("referenced_tweets") or ()
                if ref.get("type") == "replied_to"
            ]
            if post.reply_to.id not in parents:
                return False
        note = tweet.get("note_tweet") or {}
        text = str(note.get("text") or tweet.get("text") or "")
        return _comparable(text) == wanted


# -- login ---------------------------------------------------------------------------------


class _OAuth1Login(tweepy.OAuth1UserHandler):  # type: ignore[misc]  # tweepy has no type hints
    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str) -> None:
        super().__init__(consumer_key, consumer_secret, callback="oob")
        self.base_url = base_url

    def _get_oauth_url(self, endpoint: str) -> str:
        return f"{self.base_url}/oauth/{endpoint}"


def _login_error(exc: tweepy.TweepyException, step: str) -> PublishError:
    cause = exc.args[0] if exc.args else None  # tweepy wraps the original error
    if isinstance(cause, requests.RequestException):
        return RetryLater(f"could not reach X to {step}: {type(cause).__name__}")
    status = getattr(cause, "status_code", None)
    return AuthFailed(f"X refused to {step}" + (f" ({status})" if status else ""), status=status)


def login(io: LoginIO, config: ChannelAccess) -> dict[str, str]:
    """OAuth 1.0a with a PIN: the app's keys come from config.yaml (or are asked for), the
    user authorizes the app in a browser and types the PIN that X shows."""
    base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
    problem = base_url_problem(base)
    if problem:
        raise ValueError(problem)
    app = {name: config.credentials.get(name, "") for name in ("consumer_key", "consumer_secret")}
    asked = {
        name: io.ask(question, secret=True).strip()
        for name, question in (
            ("consumer_key", "API key (consumer key) of your X app"),
            ("consumer_secret", "API key secret (consumer secret) of your X app"),
        )
        if not app[name]
    }
    app |= asked
    handler = _OAuth1Login(base, app["consumer_key"], app["consumer_secret"])
    try:
        url = handler.get_authorization_url()
    except tweepy.TweepyException as exc:
        raise _login_error(exc, "start the authorization (are the app's keys right?)") from None
    io.say(
        "Open this address in a browser where you are logged in to X as the account that "
        f"will post, and authorize the app:\n\n    {url}\n\nX then shows a PIN."
    )
    pin = io.ask("PIN").strip()
    try:
        token, secret = handler.get_access_token(pin)
    except tweepy.TweepyException as exc:
        raise _login_error(exc, "accept the PIN") from None
    tokens = {"access_token": token, "access_token_secret": secret}
    connector = XConnector(
        ChannelAccess(config.name, "x", credentials=app | tokens, base_url=config.base_url)
    )
    try:
        _, username = connector._me()
    finally:
        connector.close()
    io.say(f"Authorized: posts will go out as @{username}.")
    return asked | tokens
