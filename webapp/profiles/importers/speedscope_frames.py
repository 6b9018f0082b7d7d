"""From a speedscope file's frame numbers to the Profile's interned frames."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

import numpy as np

from webapp.profiles.model import Frame, Profile, ProfileFormatError

# py-spy --subprocesses roots every stack in frames like `process 6696:"python x.py"`.
PYSPY_PROCESS_FRAME = re.compile(r"process \d+:")


class FrameTable:
    """Maps a file's frame numbers to the Profile's interned frames, lazily.

    Only frames some sample uses are interned, in order of first use; py-spy's
    synthetic process frames (they carry host paths and command lines) map to
    nothing and so vanish from every stack.
    """

    DROPPED = -1
    UNUSED = -2

    def __init__(self, shared: object, profile: Profile):
        if not isinstance(shared, dict) or not isinstance(shared.get("frames"), list):
            raise ProfileFormatError(
                "This speedscope file has no frame table (shared.frames), so its samples "
                "cannot be read. Export it again."
            )
        self._frames = shared["frames"]
        self.profile = profile
        self._mapped: list[int | None] = [None] * len(self._frames)
        self._dropped_any = False

    def stack_ids(self, stacks: Sequence[Sequence[int]], position: int) -> list[int]:
        """Intern stacks made of file frame numbers (root first); their ids, in order.

        All stacks go through each step together so that the work per frame
        number is done by C loops; Python runs once per stack and per new frame.
        """
        table = self._mapped
        flat = list(chain.from_iterable(stacks))
        if flat and (min(flat) < 0 or max(flat) >= len(table)):
            bad = next(index for index in flat if not 0 <= index < len(table))
            raise ProfileFormatError(
                f"A sample of profile {position + 1} refers to frame {bad}, but this "
                f"speedscope file defines only {len(table)} frames. Export it again."
            )
        for index in dict.fromkeys(flat):  # intern frames at first use, in order of use
            if table[index] is None:
                table[index] = self._intern(index)
        known = np.array([self.UNUSED if index is None else index for index in table], dtype=np.int32)
        mapped = known[np.array(flat, dtype=np.int64)] if flat else np.zeros(0, np.int32)
        lengths = np.fromiter(map(len, stacks), dtype=np.int64, count=len(stacks))
        if self._dropped_any and (mapped == self.DROPPED).any():
            kept_so_far = np.concatenate(([0], np.cumsum(mapped != self.DROPPED)))
            ends = np.cumsum(lengths)
            lengths = kept_so_far[ends] - kept_so_far[ends - lengths]
            mapped = mapped[mapped != self.DROPPED]
        return self.profile.intern_stacks(mapped, lengths).tolist()

    def _intern(self, index: int) -> int:
        item = self._frames[index]
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ProfileFormatError(
                f"Frame {index} of this speedscope file has no name, so the file is damaged. "
                "Export it again."
            )
        file = item.get("file") if isinstance(item.get("file"), str) else ""
        line = item.get("line")
        if type(line) is float and line.is_integer():
            line = int(line)
        line = line if type(line) is int and line > 0 else 0
        if not file and not line and PYSPY_PROCESS_FRAME.match(item["name"]):
            self._dropped_any = True
            return self.DROPPED
        return self.profile.intern_frame(Frame(item["name"], file, line))
