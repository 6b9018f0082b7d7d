"""Requests whose file uploads stream into UPLOAD_DIR, so a big profile is linked, not copied.

Werkzeug spools an upload over 500 KB to an anonymous temporary file; that file has no name
to link to the report, so a second full copy would be needed. Here an upload of a big request
goes to a named spool file in UPLOAD_DIR instead (see ``webapp.jobs.uploads``); small ones
stay with Werkzeug's default (memory up to 500 KB).
"""

from __future__ import annotations

from typing import IO

from flask import Request, current_app
from werkzeug.formparser import default_stream_factory

from webapp.jobs.uploads import spool_file

IN_MEMORY_BYTES = 500 * 1024  # Werkzeug's own threshold for spooling to disk


class SpoolingRequest(Request):
    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        if total_content_length is not None and total_content_length <= IN_MEMORY_BYTES:
            return default_stream_factory(total_content_length=total_content_length, content_type=content_type,
                                          filename=filename, content_length=content_length)
        return spool_file(current_app.config)
