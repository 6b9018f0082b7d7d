"""Projects: several files profiled together, uploaded as a .zip or as separate files.

A ``Project`` is the validated set of files (relative POSIX paths -> bytes) and the
entry script. ``archive`` turns an untrusted upload into one (or refuses it with a
sentence and a status code, before anything is stored); ``layout`` writes one into
a job's directory, read-only. Stdlib only; no Flask, no database.
"""

from .archive import ProjectError, ProjectLimits, from_files, from_zip
from .project import PROJECT_ARTIFACT, Project, choose_entry

__all__ = ["PROJECT_ARTIFACT", "Project", "ProjectError", "ProjectLimits", "choose_entry", "from_files", "from_zip"]
