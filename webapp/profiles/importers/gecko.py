"""The Firefox Profiler's formats: the *processed* profile (what profiler.firefox.com
saves and uploads, and what CPython 3.15's ``python -m profiling.sampling --gecko``
writes) and the raw *Gecko* profile (what Firefox's built-in profiler emits).

Both keep each thread's data in tables that point at each other by index:
samples -> ``stackTable`` (frame + prefix, the caller's stack) -> ``frameTable``
-> ``funcTable`` -> strings. The processed format stores each table as
columns (``{"frame": [...], "prefix": [...]}``) and its strings in
``shared.stringArray`` (older versions: per thread); the raw format stores rows
with a ``schema`` (``{"schema": {"prefix": 0, "frame": 1}, "data": [[...]]}``),
per-thread ``stringTable`` and frame ``location`` strings like ``func (file:line)``,
and nests child processes under ``processes``.

Every index is checked; a stack's prefix must come before it (as the profiler
writes them), which also rules out cycles.
"""

from __future__ import annotations

from webapp.profiles.importers.base import name_from_filename
from webapp.profiles.importers.building import ProfileBuilder, split_located_name
from webapp.profiles.importers.json_input import JsonImporter
from webapp.profiles.model import Profile

LABEL = "Firefox Profiler (Gecko)"
MAX_PROCESS_DEPTH = 8
DEFAULT_INTERVAL_MS = 1.0


class GeckoImporter(JsonImporter):
    name = "gecko"
    description = "Firefox Profiler / Gecko JSON (also CPython 3.15 `profiling.sampling --gecko`)"
    label = LABEL
    hints = (b'"meta"',)

    def recognizes_document(self, document: object) -> bool:
        return (isinstance(document, dict) and isinstance(document.get("meta"), dict)
                and isinstance(document.get("threads"), list))

    def load_document(self, document: object, filename: str = "") -> Profile:
        builder = ProfileBuilder(LABEL, name_from_filename(filename))
        interval = document["meta"].get("interval", DEFAULT_INTERVAL_MS)
        if type(interval) not in (int, float) or not 0 < interval < 1e6:
            interval = DEFAULT_INTERVAL_MS
        shared = document.get("shared") if isinstance(document.get("shared"), dict) else {}
        shared_strings = shared.get("stringArray")
        threads = 0
        pending = [(document, 0)]
        while pending:
            process, depth = pending.pop()
            if depth > MAX_PROCESS_DEPTH or not isinstance(process, dict):
                raise builder.error("nests its processes too deeply or not as objects")
            for thread in process.get("threads") or []:
                threads += _read_thread(builder, thread, shared_strings, threads)
            children = process.get("processes") or []
            if not isinstance(children, list):
                raise builder.error("has a processes field that is not a list")
            pending.extend((child, depth + 1) for child in reversed(children))
        if not threads:
            raise builder.error("has no thread with samples")
        return builder.build(interval / 1000.0, integral=True)


def _column(builder: ProfileBuilder, table: object, name: str, table_name: str, required: bool = True) -> list:
    """One column of a table, from columns or from schema + rows; [] when absent and optional."""
    if not isinstance(table, dict):
        raise builder.error(f"has a thread without a {table_name}")
    schema = table.get("schema")
    if isinstance(schema, dict):
        index = schema.get(name)
        rows = table.get("data")
        if type(index) is not int or index < 0 or not isinstance(rows, list):
            if required:
                raise builder.error(f"has a {table_name} without a {name} column")
            return []
        column = []
        for row in rows:
            if not isinstance(row, list):
                raise builder.error(f"has a {table_name} row that is not a list")
            column.append(row[index] if index < len(row) else None)
        return column
    values = table.get(name)
    if isinstance(values, list):
        return values
    if required:
        raise builder.error(f"has a {table_name} without a {name} column")
    return []


def _read_thread(builder: ProfileBuilder, thread: object, shared_strings: object, position: int) -> int:
    """Add one thread's samples; 1 when it had any, else 0."""
    if not isinstance(thread, dict):
        raise builder.error("has a thread that is not a JSON object")
    strings = thread.get("stringArray", thread.get("stringTable", shared_strings))
    if isinstance(strings, dict):  # some processed versions: {"_array": [...]}
        strings = strings.get("_array")
    if not isinstance(strings, list):
        raise builder.error("has no string table")
    samples = thread.get("samples")
    stacks = _column(builder, samples, "stack", "samples table")
    weights = _column(builder, samples, "weight", "samples table", required=False)
    weight_type = samples.get("weightType", "samples") if isinstance(samples, dict) else "samples"
    if weight_type not in ("samples", "tracing-ms"):
        raise builder.error(f"weighs its samples in {str(weight_type)[:20]}, not time or counts",
                            "flamedeck shows CPU and wall-time profiles.")
    if weights and len(weights) != len(stacks):
        raise builder.error("has a samples table whose weight and stack columns differ in length")
    stack_frames = _column(builder, thread.get("stackTable"), "frame", "stackTable")
    prefixes = _column(builder, thread.get("stackTable"), "prefix", "stackTable")
    frame_table = thread.get("frameTable")
    raw_format = isinstance(frame_table, dict) and "schema" in frame_table
    if raw_format:
        locations = _column(builder, frame_table, "location", "frameTable")
        funcs, func_names, func_files, func_lines = [], [], [], []
    else:
        funcs = _column(builder, frame_table, "func", "frameTable")
        func_table = thread.get("funcTable")
        func_names = _column(builder, func_table, "name", "funcTable")
        func_files = _column(builder, func_table, "fileName", "funcTable", required=False)
        func_lines = _column(builder, func_table, "lineNumber", "funcTable", required=False)
        locations = []
    frame_lines = _column(builder, frame_table, "line", "frameTable", required=False)
    frame_count = len(locations) if raw_format else len(funcs)

    def string(index: object, what: str) -> str:
        if type(index) is not int or not 0 <= index < len(strings) or not isinstance(strings[index], str):
            raise builder.error(f"refers to string {str(index)[:20]} for a {what}, outside its string table")
        return strings[index]

    frame_ids: dict[int, int] = {}

    def frame_id(index: object) -> int:
        if type(index) is not int or not 0 <= index < frame_count:
            raise builder.error(f"has a stack naming frame {str(index)[:20]}, outside its frame table")
        cached = frame_ids.get(index)
        if cached is None:
            line = frame_lines[index] if index < len(frame_lines) else None
            if raw_format:
                name, file, located_line = split_located_name(string(locations[index], "frame location"))
                line = line if type(line) is int else located_line
            else:
                func = funcs[index]
                if type(func) is not int or not 0 <= func < len(func_names):
                    raise builder.error(f"has a frame naming function {str(func)[:20]}, outside its funcTable")
                name = string(func_names[func], "function name")
                file_index = func_files[func] if func < len(func_files) else None
                file = string(file_index, "file name") if file_index is not None else ""
                if type(line) is not int and func < len(func_lines):
                    line = func_lines[func]
            cached = frame_ids[index] = builder.frame(name, file, line if type(line) is int else 0)
        return cached

    resolved: list[tuple[int, ...]] = []
    for index, (frame, prefix) in enumerate(zip(stack_frames, prefixes)):
        if prefix is None:
            above: tuple[int, ...] = ()
        elif type(prefix) is int and 0 <= prefix < index:
            above = resolved[prefix]
        else:
            raise builder.error(f"has a stack whose prefix {str(prefix)[:20]} is not an earlier stack")
        builder.charge(len(above) + 1)
        resolved.append((*above, frame_id(frame)))
    if len(stack_frames) != len(prefixes):
        raise builder.error("has a stackTable whose frame and prefix columns differ in length")
    if not stacks:
        return 0
    name = thread.get("name") if isinstance(thread.get("name"), str) else f"Thread {position + 1}"
    pid, tid = thread.get("pid"), thread.get("tid")
    process = thread.get("processName") if isinstance(thread.get("processName"), str) else ""
    if pid is not None and isinstance(pid, (int, str)):
        process = f"{process} (pid {pid})".strip() if process else f"pid {pid}"
    target = builder.thread(("thread", position), name, process, tid if type(tid) is int else None)
    stack_ids: dict[int | None, int] = {}
    for offset, stack in enumerate(stacks):
        if stack is not None and (type(stack) is not int or not 0 <= stack < len(resolved)):
            raise builder.error(f"has a sample of stack {str(stack)[:20]}, outside its stackTable")
        sid = stack_ids.get(stack)
        if sid is None:
            sid = stack_ids[stack] = builder.stack(resolved[stack] if stack is not None else (), charged=True)
        weight = weights[offset] if weights and weights[offset] is not None else 1
        builder.add(target, sid, weight)
    return 1
