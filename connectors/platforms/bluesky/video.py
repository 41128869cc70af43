"""What Bluesky video needs besides HTTP: the video service's answers read, captions as
WebVTT.

A video reaches a post in one of two ways (the channel's `video_upload` option):
- "service" (the default, what the Bluesky app does): the file goes to the video service
  (video.bsky.app) with a service-auth token the account's PDS signs; the service checks and
  re-encodes it, stores the result on the PDS as a blob, and its job status hands that blob
  back. Its answers stray from the lexicon: `uploadVideo` answers the job status itself rather
  than `{jobStatus}` (bluesky-social/atproto#3026), and a video processed before answers 409
  `already_exists` with its job, whose status carries the earlier blob (bsky-docs video.mdx).
- "blob": the file is uploaded to the PDS with `uploadBlob` as an image is. The post is readable
  at once but apps show the video only once the video service has processed it, and the PDS
  caps blobs (50 MB on Bluesky's servers, 5 MiB on a default self-hosted PDS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from campaigns.captions import BadCaptions, read_captions
from connectors.base import Rejected, RetryLater

VIDEO_SERVICE = "https://video.bsky.app"
UPLOAD_MODES = ("service", "blob")
CAPTION_MAX_BYTES = 20_000
"""`app.bsky.embed.video#caption`: a caption file's blob holds at most this many bytes."""
FAILED = "JOB_STATE_FAILED"
DAILY_RETRY = timedelta(hours=1)
"""When to try again once the daily video allowance is used up (Bluesky does not say when it
resets)."""
_PERMANENT_FAILURES = frozenset(
    {"validation_failure", "encoding_failure", "pds_upload_unsupported_blob_size"}
)
_SRT_TIME = re.compile(r"(\d{2,}:\d{2}:\d{2}),(\d{3})")


def did_web(url: str) -> str:
    """The did:web of a service at `url`, as the Bluesky app derives it (a port as %3A)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"did:web:{host}%3A{parts.port}" if parts.port else f"did:web:{host}"


def webvtt(path: Path) -> bytes:
    """The caption file as WebVTT: a WebVTT file as it is, an SRT file converted (the header
    added, the comma of each timing replaced by a dot). It is read as `clarion validate` reads
    it (campaigns.captions), so a file that passed there converts here."""
    try:
        found = read_captions(path)
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise Rejected(f"cannot read the captions {path.name}: {exc.strerror}") from None
    except BadCaptions as exc:
        raise Rejected(f"the captions {path.name} are not SRT or WebVTT: {exc}") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if found.format == "srt":
        lines = ["WEBVTT", ""] + [
            _SRT_TIME.sub(r"\1.\2", line) if " --> " in line else line for line in lines
        ]
    content = "\n".join(lines).encode()
    if len(content) > CAPTION_MAX_BYTES:
        raise Rejected(
            f"the captions {path.name} are {len(content):,} bytes as WebVTT; Bluesky takes "
            f"caption files up to {CAPTION_MAX_BYTES:,} bytes"
        )
    return content


def job_status(body: Any) -> Mapping[str, Any]:
    """The job status in an answer of the video service, wrapped (`{jobStatus}`) or not."""
    if not isinstance(body, dict):
        return {}
    inner = body.get("jobStatus")
    return inner if isinstance(inner, dict) else body


def finished_blob(status: Mapping[str, Any], name: str) -> Any:
    """The blob of a finished job; None while it is processing; an error when it failed."""
    blob = status.get("blob")
    if isinstance(blob, dict):
        return blob  # also when `already_exists`: the earlier processing's blob
    if status.get("state") != FAILED:
        return None
    why = status.get("message") or status.get("error") or "no reason given"
    code = str(status.get("failureCode") or "") or None
    reason = f"Bluesky's video service could not process {name}: {why}"
    if code in _PERMANENT_FAILURES:
        raise Rejected(reason, code=code)
    raise RetryLater(reason, code=code)


def check_limits(limits: Any, size: int, name: str) -> None:
    """Raise when `getUploadLimits` says the account cannot upload this video now: RetryLater
    when its daily allowance (videos or bytes) is used up, Rejected when it may not upload
    video at all (an unverified e-mail address, say)."""
    if not isinstance(limits, dict):
        return
    videos, left = limits.get("remainingDailyVideos"), limits.get("remainingDailyBytes")
    if videos == 0 or (isinstance(left, int) and left < size):
        short = f" ({left:,} bytes left, {name} is {size:,})" if videos != 0 else ""
        raise RetryLater(
            f"the account's daily video allowance on Bluesky is used up{short}: trying again "
            "in an hour",
            retry_at=datetime.now(UTC) + DAILY_RETRY,
        )
    if limits.get("canUpload") is False:
        why = limits.get("message") or limits.get("error") or "no reason given"
        raise Rejected(
            f"Bluesky does not let this account upload video ({why}); Bluesky asks accounts "
            "to verify their e-mail address before their first video"
        )
