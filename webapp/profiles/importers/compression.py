"""Gzip-compressed profiles (``.pb.gz`` from Go and Pyroscope, ``.json.gz``): expanded
before recognition, never beyond a limit, so that a small gzip bomb cannot fill memory."""

from __future__ import annotations

import zlib

from webapp.profiles.model import ProfileFormatError

GZIP_MAGIC = b"\x1f\x8b"
# Default of the FLAMEDECK_MAX_DECOMPRESSED_BYTES setting (webapp/config.py).
DEFAULT_MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024


def maybe_gunzip(data: bytes, max_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> bytes:
    """``data`` expanded when it is gzip (several members too), else ``data`` itself."""
    if not data.startswith(GZIP_MAGIC):
        return data
    parts: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest.startswith(GZIP_MAGIC):
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            pending = rest
            while True:
                chunk = inflater.decompress(pending, CHUNK_BYTES)
                size += len(chunk)
                if size > max_bytes:
                    raise ProfileFormatError(
                        f"This gzip-compressed file expands to more than {max_bytes:,} bytes, the "
                        "most flamedeck accepts (it may be a gzip bomb). Upload it uncompressed, or "
                        "ask the operator to raise FLAMEDECK_MAX_DECOMPRESSED_BYTES."
                    )
                parts.append(chunk)
                pending = inflater.unconsumed_tail
                if inflater.eof or (not pending and not chunk):
                    break
            if not inflater.eof:
                raise ProfileFormatError(
                    "This gzip-compressed file ends in the middle of its data, so it was probably "
                    "cut off while being written or uploaded. Upload it again."
                )
            rest = inflater.unused_data.lstrip(b"\0")
    except zlib.error as error:
        raise ProfileFormatError(
            f"This gzip-compressed file is damaged ({error}). Compress or upload it again."
        ) from error
    return b"".join(parts)
