"""``flamedeck env``: create the default script environment, add packages to it, list it.

    flamedeck env create                 make it (``.ci/setup`` does this)
    flamedeck env install numpy pandas   pip-install packages into it
    flamedeck env list                   Python version and every package, as the home page shows

Packages are installed by the app's own pip (``pip --python``) from wherever this
machine's pip is configured to look, as the operator would install anything.
"""

from __future__ import annotations

import argparse
import sys

from webapp.config import ConfigError, load_settings
from webapp.environments import ScriptEnvironmentError
from webapp.jobs.environments import default_environment


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="flamedeck env", description="Manage the default script environment.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("create", help="create the environment if it does not exist")
    install = commands.add_parser("install", help="install packages into it (created first if needed)")
    install.add_argument("packages", nargs="+", metavar="PKG", help="requirements, as pip takes them")
    commands.add_parser("list", help="show its Python version and packages")
    args = parser.parse_args(argv)
    try:
        environment = default_environment(load_settings())
    except ConfigError as error:
        return _fail(str(error))
    try:
        if args.command in ("create", "install"):
            existed = environment.exists()
            environment.create()
            if not existed:
                print(f"Created the script environment {environment.path}")
        if args.command == "install":
            environment.install(args.packages)
            print(f"Installed {' '.join(args.packages)} into {environment.path}")
    except ScriptEnvironmentError as error:
        return _fail(str(error))
    if args.command == "list":
        if not environment.exists():
            return _fail(f"There is no script environment at {environment.path}; run 'flamedeck env create'.")
        described = environment.describe()
        print(f"{environment.path}: Python {described['python']}")
        for package in described["packages"]:
            print(f"  {package['name']} {package['version']}")
    return 0


def _fail(message: str) -> int:
    print(f"flamedeck env: {message}", file=sys.stderr)
    return 2
