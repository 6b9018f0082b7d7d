"""The sandbox's settings: one dataclass, and the table the web app's settings are built from.

Every limit carries its unit in its name. ``SANDBOX_SETTINGS`` lists, for each
field, the setting name (``FLAMEDECK_`` + name is the environment variable),
the unit and one line of help, so ``webapp.config`` can add the rows without
repeating the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

MIB = 1024 * 1024
GIB = 1024 * MIB
SANDBOX_MODES = ("auto", "bwrap", "rlimits")


@dataclass(frozen=True)
class SandboxLimits:
    """What a sandboxed run may use; each field is the setting ``SANDBOX_<FIELD>``."""

    memory_bytes: int = 2 * GIB
    processes: int = 64
    cpu_s: int = 120
    cpu_cores: float = 0.0
    tmp_bytes: int = 64 * MIB
    shm_bytes: int = 16 * MIB
    file_bytes: int = 64 * MIB
    open_files: int = 256
    user: str = "flamedeck"
    python: str = ""
    cgroup_parent: str = ""
    self_test_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, values: Mapping[str, object]) -> SandboxLimits:
        """Build from a settings mapping keyed ``SANDBOX_MEMORY_BYTES`` etc.; missing keys keep defaults."""
        given = {}
        for item in fields(cls):
            key = setting_name(item.name)
            if key in values and values[key] is not None:
                given[item.name] = values[key]
        return cls(**given)


def setting_name(field_name: str) -> str:
    """``memory_bytes`` -> ``SANDBOX_MEMORY_BYTES``."""
    return "SANDBOX_" + field_name.upper()


# (setting name, unit, help). The default is SandboxLimits' own; the mode setting is "SANDBOX".
SANDBOX_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("SANDBOX", "mode",
     "How scripts are confined: 'bwrap' (bubblewrap, required), 'rlimits' (resource limits only, "
     "no isolation) or 'auto' (bubblewrap when its self-test passes, else rlimits with a warning on every page)."),
    ("SANDBOX_MEMORY_BYTES", "bytes",
     "Address space of each process of a script (RLIMIT_AS), and the memory cap of the job's cgroup."),
    ("SANDBOX_PROCESSES", "processes",
     "Processes and threads a script may have at once (RLIMIT_NPROC, and the cgroup's pids.max)."),
    ("SANDBOX_CPU_S", "s", "CPU seconds each process of a script may use before it is killed (RLIMIT_CPU)."),
    ("SANDBOX_CPU_CORES", "cores",
     "CPU quota of a job's cgroup, in cores (0.5 = half of one core); 0 means none. A quota puts the job "
     "in a CPU cgroup of its own, and py-spy then counts some waiting threads as running (see the README)."),
    ("SANDBOX_TMP_BYTES", "bytes", "Size of the in-memory /tmp a script sees (its working directory)."),
    ("SANDBOX_SHM_BYTES", "bytes", "Size of the in-memory /dev/shm a script sees."),
    ("SANDBOX_FILE_BYTES", "bytes", "Largest file a script may write (RLIMIT_FSIZE)."),
    ("SANDBOX_OPEN_FILES", "files", "Files a script's process may hold open at once (RLIMIT_NOFILE)."),
    ("SANDBOX_USER", "user",
     "Unprivileged user that py-spy and the scripts run as when the worker runs as root."),
    ("SANDBOX_PYTHON", "path",
     "Interpreter that runs the scripts; empty means the server's own Python if the sandbox user can "
     "run it, else /usr/bin/python3."),
    ("SANDBOX_CGROUP_PARENT", "path",
     "cgroup under which each job gets its own (memory, pids, CPU); empty means the worker's own. "
     "On cgroup v2 name a delegated cgroup with those controllers enabled."),
    ("SANDBOX_SELF_TEST_TIMEOUT_S", "s", "How long the start-up check of bubblewrap may take."),
)


def sandbox_defaults() -> dict[str, object]:
    """Setting name -> default value, for every row of ``SANDBOX_SETTINGS``."""
    defaults: dict[str, object] = {"SANDBOX": "auto"}
    for item in fields(SandboxLimits):
        defaults[setting_name(item.name)] = item.default
    return defaults
