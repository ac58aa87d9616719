"""``python -m disco_pyserini.reproduce.sample_model --output DIR``: the sample world's tiny lexical SPLADE model
(:func:`disco_pyserini.sample.build_tiny_splade`, what the demo builds first) as a command, so that the sample
conditions spell out every step like the real ones."""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from disco_pyserini import cli
from disco_pyserini.errors import InputError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m disco_pyserini.reproduce.sample_model",
                                     description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--output", required=True, help="model folder to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    args = parser.parse_args(argv)
    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise InputError("already exists; add --overwrite to replace it", output)
    from disco_pyserini.sample import build_tiny_splade

    output.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed: an interrupted build leaves no half-written model.
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", dir=output.parent) as tmp:
        build_tiny_splade(Path(tmp) / "model")
        if output.exists():
            shutil.rmtree(output)
        (Path(tmp) / "model").rename(output)
    print(f"tiny lexical SPLADE model written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
