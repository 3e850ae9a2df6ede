"""HTTP helpers of the pages: stored audio served with range requests (browsers seek in <audio>
only when the server answers `Range` with 206 Partial Content), and where to go after an action."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import resolve_url
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single-range header, or None when it is not one we serve."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # "bytes=-500": the last 500 bytes
        return max(0, size - int(last)), size - 1
    return int(first), min(int(last), size - 1) if last else size - 1


def _chunks(handle, remaining: int):
    with handle:
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


def file_response(request: HttpRequest, field_file, *, content_type: str, as_attachment: bool, filename: str):
    """The file, after the caller's permission check. With MEDIA_SENDFILE set, the front server
    sends the bytes (and handles ranges) instead of a Python process."""
    if settings.MEDIA_SENDFILE:
        return _front_server_response(field_file, content_type=content_type, as_attachment=as_attachment,
                                      filename=filename)  # fmt: skip
    size = field_file.size
    requested = _byte_range(request.headers.get("Range", ""), size) if "Range" in request.headers else None
    if requested is None:
        response = FileResponse(
            field_file.open("rb"), as_attachment=as_attachment, filename=filename, content_type=content_type
        )
    else:
        first, last = requested
        if first > last or first >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle = field_file.open("rb")
        handle.seek(first)
        body = _chunks(handle, last - first + 1)
        response = StreamingHttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    return response


def _front_server_response(
    field_file, *, content_type: str, as_attachment: bool, filename: str
) -> HttpResponse:
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    if settings.MEDIA_SENDFILE == "nginx":
        # An `internal` nginx location maps this prefix onto MEDIA_ROOT (see deploy/nginx.conf).
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX.rstrip("/") + "/" + quote(field_file.name)
    else:  # Apache mod_xsendfile, lighttpd
        response["X-Sendfile"] = field_file.path
    return response


def safe_next(request: HttpRequest, *, default: str) -> str:
    """The form's `next` if it is a page of this site, else `default` (a URL name): never another
    site, whatever was posted (https://evil.example/, //evil.example/)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url(default)
