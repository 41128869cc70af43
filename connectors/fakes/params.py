"""Reading a request's parameters the way a platform does: query, form, JSON or multipart."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from connectors.fakes.server import Request


@dataclass(frozen=True, slots=True)
class Upload:
    content: bytes
    filename: str | None
    content_type: str


def content_type(request: Request) -> str:
    return (request.header("content-type") or "").split(";")[0].strip().lower()


def multipart(request: Request) -> dict[str, Upload]:
    header = (request.header("content-type") or "").encode()
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + header + b"\r\n\r\n" + request.body
    )
    parts: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = Upload(payload, part.get_filename(), part.get_content_type())
    return parts


def params(request: Request) -> dict[str, Any]:
    """Every parameter as the platform sees it: query first, then the body's.

    Values are strings, except in a JSON body, where they keep their JSON type; a file in a
    multipart body is an `Upload`.
    """
    found: dict[str, Any] = {name: values[-1] for name, values in request.query.items()}
    kind = content_type(request)
    if kind == "application/json" and request.body:
        body = request.json()
        if isinstance(body, dict):
            found.update(body)
    elif kind == "application/x-www-form-urlencoded":
        found.update({name: values[-1] for name, values in request.form().items()})
    elif kind == "multipart/form-data":
        for name, part in multipart(request).items():
            found[name] = part if part.filename is not None else part.content.decode()
    return found
