"""Artifacts compressed as they are written: the same stored bytes, whatever the size."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import pytest

from webapp import pipeline
from webapp.profiles import load_profile
from webapp.store.artifacts import BIG_ARTIFACT_BYTES, CompressingWriter, compress, compress_written

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize("size", [0, 1_000, BIG_ARTIFACT_BYTES, BIG_ARTIFACT_BYTES + 1, 3 * BIG_ARTIFACT_BYTES])
def test_a_stream_written_in_pieces_is_stored_as_compress_would_store_it(size):
    data = (os.urandom(size // 2) + b"ab" * size)[:size]  # half noise, half compressible
    writer = CompressingWriter()
    for begin in range(0, size, 1 << 20):
        writer.write(data[begin:begin + (1 << 20)])
    streamed, whole = writer.finish(), compress(data)
    assert (streamed.size_bytes, streamed.sha256) == (whole.size_bytes, whole.sha256) == (size, hashlib.sha256(data).hexdigest())
    assert gzip.decompress(streamed.gzip_data) == data
    if size <= BIG_ARTIFACT_BYTES:  # held and compressed at once, at the level compress() picks
        assert streamed.gzip_data == whole.gzip_data


def test_a_workers_import_keeps_its_downloads_compressed_and_equal_to_the_plain_ones():
    data = (FIXTURES / "pyspy-threads.speedscope.json").read_bytes()
    plain = pipeline.import_profile(data, "threads.speedscope.json")
    compressed = pipeline.import_profile(data, "threads.speedscope.json", artifact_sink=compress_written)
    assert set(plain.artifacts) == set(compressed.artifacts) == set(pipeline.PROFILE_ARTIFACTS)
    for name, stored in compressed.artifacts.items():
        assert gzip.decompress(stored.gzip_data) == plain.artifacts[name]
        assert stored.sha256 == hashlib.sha256(plain.artifacts[name]).hexdigest()
    assert load_profile(gzip.decompress(compressed.artifacts["profile.speedscope.json"].gzip_data)).sample_count > 0
