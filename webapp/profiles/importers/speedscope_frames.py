"""From a speedscope file's frame numbers to the Profile's interned frames."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

import numpy as np

from webapp.profiles.importers.speedscope_scan import FlatStacks
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

    def stack_ids(self, stacks: Sequence[Sequence[int]] | FlatStacks, position: int) -> list[int]:
        """Intern stacks made of file frame numbers (root first); their ids, in order.

        ``stacks`` is a list of frame-number lists, or already flat (the byte
        scanner's). All stacks go through each step together, as numpy operations;
        Python runs once per stack and per new frame.
        """
        flat, lengths = stacks if isinstance(stacks, FlatStacks) else _flatten(stacks, position, len(self._mapped))
        table = self._mapped
        if len(flat) and (flat.min() < 0 or flat.max() >= len(table)):
            bad = int(flat[(flat < 0) | (flat >= len(table))][0])
            raise _unknown_frame(position, bad, len(table))
        for index in _in_order_of_first_use(flat, [index is not None for index in table]):
            table[index] = self._intern(index)
        known = np.array([self.UNUSED if index is None else index for index in table], dtype=np.int32)
        mapped = known[flat] if len(flat) else np.zeros(0, np.int32)
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


def _unknown_frame(position: int, bad: int, defined: int) -> ProfileFormatError:
    return ProfileFormatError(
        f"A sample of profile {position + 1} refers to frame {bad}, but this "
        f"speedscope file defines only {defined} frames. Export it again."
    )


def _flatten(stacks: Sequence[Sequence[int]], position: int, defined: int) -> FlatStacks:
    """Lists of frame numbers as one flat int64 array and the lengths."""
    lengths = np.fromiter(map(len, stacks), dtype=np.int64, count=len(stacks))
    try:
        flat = np.fromiter(chain.from_iterable(stacks), dtype=np.int64, count=int(lengths.sum()))
    except OverflowError:  # a frame number beyond int64: certainly not a frame
        bad = next(index for index in chain.from_iterable(stacks) if not -2**63 <= index < 2**63)
        raise _unknown_frame(position, bad, defined) from None
    return FlatStacks(flat, lengths)


def _in_order_of_first_use(flat: np.ndarray, known: list[bool], block: int = 65_536) -> list[int]:
    """The values of ``flat`` not yet ``known``, each once, in order of first occurrence.

    A block at a time: after the first blocks nearly every frame is known, so the
    sort that orders new ones runs on a handful of values, not on every frame."""
    seen = np.array(known, dtype=bool)
    found: list[int] = []
    for begin in range(0, len(flat), block):
        values = flat[begin:begin + block]
        values = values[~seen[values]]
        if len(values):
            new, first = np.unique(values, return_index=True)
            found.extend(new[np.argsort(first)].tolist())
            seen[new] = True
    return found
