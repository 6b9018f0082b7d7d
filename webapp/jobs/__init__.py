"""Background jobs: the Huey queue, the profiling task, and the reaper."""

from webapp.jobs.taskqueue import JobQueue, make_huey
from webapp.jobs.runner import JobRunner

__all__ = ["JobQueue", "JobRunner", "make_huey"]
