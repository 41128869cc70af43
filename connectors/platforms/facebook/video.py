"""Facebook Page videos: the file through the Resumable Upload API, then the post.

`POST /{app-id}/uploads` (file_name, file_length, file_type) opens an upload session; `POST
/upload:{session}` with a `file_offset` header sends the file from that offset and, once the
last byte arrived, answers with a file handle (`h`); `GET /upload:{session}` says how far an
interrupted upload got, and the next transfer starts there. Nothing of this is public: only
`POST /{page-id}/videos` with the handle (`fbuploader_video_file_chunk`) makes the post, and
Facebook processes the video after that.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import httpx

from connectors.base import MediaFile, PublishError, Rejected, RetryLater
from connectors.graph import classify
from connectors.http import json_body, send_safe
from connectors.upload import file_range, file_size

FAILED = frozenset({"error", "upload_failed", "expired"})
"""`status.video_status` values for a video Facebook will not show."""


class FacebookUploads:
    transfer_tries: ClassVar[int] = 3
    retry_pause: ClassVar[float] = 1.0

    def __init__(self, client: httpx.Client, version: str, app_id: str | None, token: str):
        self._client = client
        self._version = version
        self._app = app_id
        self._token = token

    def upload(self, media: MediaFile) -> str:
        """The handle of the file, uploaded whole."""
        if not self._app:
            raise Rejected(
                "posting a video to Facebook needs options.app_id: the id of the Meta app "
                "whose token the channel uses (App Dashboard, top of the page)"
            )
        size = file_size(media.path)
        answer = self._answer(
            self._client.build_request(
                "POST",
                f"/{self._version}/{self._app}/uploads",
                params={
                    "file_name": media.path.name,
                    "file_length": str(size),
                    "file_type": media.mime,
                },
            )
        )
        session = str(answer.get("id") or "")
        if not session.startswith("upload:"):
            raise RetryLater("Facebook opened no upload session")
        offset = 0
        failure: PublishError = RetryLater("Facebook did not finish the upload")
        for attempt in range(self.transfer_tries):
            if attempt:
                time.sleep(self.retry_pause)
                offset = self._offset(session)
            try:
                handle = self._transfer(media, session, offset, size)
            except RetryLater as error:
                failure = error
                continue
            if handle:
                return handle
        raise failure

    def _transfer(self, media: MediaFile, session: str, offset: int, size: int) -> str | None:
        headers, content = file_range(media.path, offset, size)
        request = self._client.build_request(
            "POST",
            f"/{self._version}/{session}",
            content=content,
            headers={
                **headers,
                "Authorization": f"OAuth {self._token}",
                "file_offset": str(offset),
            },
        )
        handle = self._answer(request).get("h")
        return str(handle) if handle else None

    def _offset(self, session: str) -> int:
        """How many bytes of the session Facebook holds."""
        request = self._client.build_request(
            "GET", f"/{self._version}/{session}", headers={"Authorization": f"OAuth {self._token}"}
        )
        offset = self._answer(request).get("file_offset")
        if not isinstance(offset, int):
            raise RetryLater("Facebook did not say how much of the upload it holds")
        return offset

    def _answer(self, request: httpx.Request) -> dict[str, Any]:
        response = send_safe(self._client, request, "Facebook")
        if not response.is_success:
            raise classify(response, "Facebook")
        body = json_body(response)
        return body if isinstance(body, dict) else {}

    def problem(self, video: str) -> str | None:
        """Best effort, once the post is made: what Facebook says went wrong processing the
        video, if anything did. Nothing here may fail the publish."""
        request = self._client.build_request(
            "GET", f"/{self._version}/{video}", params={"fields": "status"}
        )
        try:
            status = self._answer(request).get("status")
        except PublishError:
            return None
        status = status if isinstance(status, dict) else {}
        if status.get("video_status") not in FAILED:
            return None
        phase = status.get("processing_phase")
        errors = phase.get("errors") if isinstance(phase, dict) else None
        said = [str(e.get("message")) for e in errors or [] if isinstance(e, dict)]
        reason = "; ".join(said) or "no reason given"
        return (
            f"Facebook could not process the video {video} ({reason}): it stays hidden from "
            "the Page; check the file and post it again"
        )
