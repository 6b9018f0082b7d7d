"""The script's stdout and stderr: pipes copied into size-capped files, and reading their ends back.

The copy happens in the worker, not in the script's process: a copier thread there
would show up in the profile, and a script could not be trusted to honour a cap.
Output past the cap is read and dropped (so the script never blocks on a full
pipe), and the file ends with a note saying how much was dropped.
"""

from __future__ import annotations

import os
import selectors
import time
from pathlib import Path

READ_CHUNK_BYTES = 64 * 1024


class CappedFile:
    """Keeps the first ``max_bytes`` written to it, counts the rest."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.kept_bytes = 0
        self.dropped_bytes = 0
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()

    def write(self, data: bytes) -> None:
        """Append what still fits under the cap; count the rest as dropped."""
        room = self.max_bytes - self.kept_bytes
        kept = data[: max(room, 0)]
        if kept:
            self._file.write(kept)
            self.kept_bytes += len(kept)
        self.dropped_bytes += len(data) - len(kept)

    def close(self) -> None:
        """Close the file, ending it with a note if anything was dropped."""
        if self.dropped_bytes:
            note = (
                f"\n[flamedeck: output truncated - kept the first {self.kept_bytes} bytes, "
                f"dropped {self.dropped_bytes} more]\n"
            )
            self._file.write(note.encode())
        self._file.close()


class PipeCopier:
    """Copies several pipe read ends into their CappedFile until each reaches end of file."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()

    def add(self, read_fd: int, sink: CappedFile) -> None:
        """Start copying ``read_fd`` (which this object now owns) into ``sink``."""
        os.set_blocking(read_fd, False)
        self._selector.register(read_fd, selectors.EVENT_READ, sink)

    @property
    def open(self) -> bool:
        """True while some pipe has not reached end of file."""
        return bool(self._selector.get_map())

    def copy_for(self, seconds: float) -> None:
        """Copy whatever arrives during the next ``seconds`` (just wait if every pipe is closed)."""
        deadline = time.monotonic() + seconds
        self._copy_until(deadline)
        time.sleep(max(deadline - time.monotonic(), 0.0))

    def drain(self, timeout_s: float) -> None:
        """Copy until every pipe reaches end of file, or ``timeout_s`` passes."""
        self._copy_until(time.monotonic() + timeout_s)

    def _copy_until(self, deadline: float) -> None:
        while self.open:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for key, _ in self._selector.select(remaining):
                self._read_once(key)

    def close(self) -> None:
        """Stop copying: close the read ends still open (later writers get EPIPE)."""
        for key in list(self._selector.get_map().values()):
            self._finish(key)
        self._selector.close()

    def _read_once(self, key: selectors.SelectorKey) -> None:
        try:
            data = os.read(key.fd, READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        except ConnectionResetError:
            # The runner's status socket (gate.py) is reset when its last holder closes it
            # with a byte still unread (the gate's "go", when the runner died before reading
            # it). Linux hands over everything that was sent before the reset, so this is
            # the end of the stream, as for a pipe whose writer closed.
            data = b""
        if data:
            key.data.write(data)
        else:
            self._finish(key)

    def _finish(self, key: selectors.SelectorKey) -> None:
        self._selector.unregister(key.fd)
        os.close(key.fd)


def tail(path: Path, max_bytes: int) -> str:
    """The last ``max_bytes`` of a text file as whole lines ("" if the file is missing)."""
    try:
        with open(path, "rb") as text_file:
            size = text_file.seek(0, os.SEEK_END)
            start = max(size - max_bytes, 0)
            text_file.seek(start)
            data = text_file.read()
    except OSError:
        return ""
    if start > 0:
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut != -1 else data
    return data.decode("utf-8", "replace")
