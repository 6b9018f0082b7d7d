"""``flamedeck worker``: the Huey consumer that runs profiling jobs and the reaper."""

from __future__ import annotations

import argparse
import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: list[str]) -> int:
    """Run the consumer until SIGINT/SIGTERM; jobs in progress are handed back to the queue."""
    from webapp import create_app

    parser = argparse.ArgumentParser(prog="flamedeck worker", description="Run profiling jobs from the queue.")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="jobs run at the same time (default: FLAMEDECK_WORKERS)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    app, problem = build_app(create_app)
    if problem:
        logging.getLogger("webapp.worker").error("%s", problem)
        return 2
    workers = args.workers if args.workers is not None else app.config["WORKERS"]
    if workers < 1:
        parser.error("--workers must be at least 1")
    from webapp.jobs.sandboxing import job_sandbox
    from webapp.profiling.sandbox import SandboxUnavailable

    try:  # choose before taking any job: a required sandbox that does not work stops the worker
        _launcher, warning = job_sandbox(app.config)
    except SandboxUnavailable as error:
        logging.getLogger("webapp.worker").error("%s", error)
        return 2
    if warning:
        logging.getLogger("webapp.worker").warning("%s", warning)
    consumer = app.extensions["flamedeck.queue"].create_consumer(workers)
    consumer.run()
    return 0


def build_app(create_app):
    """(app, None), or (None, the sentence saying why the database cannot be used)."""
    from sqlalchemy.exc import OperationalError

    from webapp.migrations import SchemaNotCurrent

    try:
        return create_app(), None
    except SchemaNotCurrent as error:
        return None, str(error)
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        return None, (f"cannot reach the database ({reason}). "
                      "Check FLAMEDECK_DATABASE_URL and that the database server is running.")


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
