"""The output copier on real descriptors: a reset status socket ends its stream like end of file."""

from __future__ import annotations

import errno
import os
import socket

import pytest

from webapp.profiling.capture import CappedFile, PipeCopier
from webapp.profiling.gate import GO

STATUS_LINE = b'{"kind": "started"}\n'
DRAIN_TIMEOUT_S = 2.0


def reset_status_socket() -> int:
    """The worker's end of a gate socket pair whose runner wrote a status line, then closed
    without reading the worker's "go" byte: what a runner killed before it read the gate leaves."""
    worker_end, runner_end = socket.socketpair()
    runner_end.sendall(STATUS_LINE)
    worker_end.sendall(GO)  # never read by the runner
    runner_end.close()
    return worker_end.detach()


def test_the_kernel_resets_a_socket_closed_with_unread_data():
    # The premise of the test below: a plain read after the status line fails with ECONNRESET.
    fd = reset_status_socket()
    try:
        assert os.read(fd, 1024) == STATUS_LINE
        with pytest.raises(ConnectionResetError) as raised:
            os.read(fd, 1024)
        assert raised.value.errno == errno.ECONNRESET
    finally:
        os.close(fd)


def test_a_reset_status_socket_ends_its_stream_and_keeps_what_was_sent(tmp_path):
    sink = CappedFile(tmp_path / "run-status.json", max_bytes=1000)
    copier = PipeCopier()
    copier.add(reset_status_socket(), sink)

    copier.drain(DRAIN_TIMEOUT_S)

    assert not copier.open  # the copier finished the socket and closed it
    copier.close()
    sink.close()
    assert (tmp_path / "run-status.json").read_bytes() == STATUS_LINE


def test_a_pipe_whose_writer_closed_still_ends_at_end_of_file(tmp_path):
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"last words\n")
    os.close(write_fd)
    sink = CappedFile(tmp_path / "stdout.txt", max_bytes=1000)
    copier = PipeCopier()
    copier.add(read_fd, sink)

    copier.drain(DRAIN_TIMEOUT_S)

    assert not copier.open
    copier.close()
    sink.close()
    assert (tmp_path / "stdout.txt").read_bytes() == b"last words\n"
