"""The ``proctorhub`` command line. Every command takes the ini file as its first argument.

    proctorhub initdb INI
    proctorhub lms create INI --name NAME [--slug SLUG]    (prints the slug)
    proctorhub lms list INI
    proctorhub token create INI --role admin|reviewer|lms [--lms SLUG] [--name NAME]
    proctorhub token revoke INI NAME
    proctorhub staff create INI --email EMAIL --role admin|reviewer [--lms SLUG] [--course CONTEXT_ID ...]
                                                           (password on stdin)
    proctorhub staff password INI --email EMAIL              (password on stdin; ends their sessions)
    proctorhub staff disable INI --email EMAIL
    proctorhub seed INI --reviews N
    proctorhub keys rotate INI
    proctorhub keys list INI
    proctorhub keys reencrypt INI
    proctorhub worker INI [--once]
"""

from __future__ import annotations

import argparse
import sys

from ..settings import SettingsError
from . import initdb, keys, lms, seed, staff, tokens, worker
from .common import CommandError

COMMAND_MODULES = [initdb, lms, tokens, keys, staff, seed, worker]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="proctorhub",
        description="Operate a proctorhub installation. Every command takes the ini file "
        "(development.ini, production.ini) as its first argument.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except (CommandError, SettingsError) as exc:
        print(f"proctorhub {args.command}: {exc}", file=sys.stderr)
        return 2
