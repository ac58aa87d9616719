"""Shared plumbing for the ``python -m disco_pyserini.*`` command lines."""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Sequence

from disco_pyserini.atomic import check_output_path, output_lock, overlap
from disco_pyserini.errors import InputError

_LOCKS: list[contextlib.ExitStack] = []  # the output locks of the commands running in this process, innermost last


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with the toolkit's error format: one ``error:`` line naming the flag, exit status 2
    (not the whole usage block, which buries the line that matters)."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to file descriptor 1 (Java, Rust and other native code included) to stderr, keeping
    stdout for results: the Seismic engine's build and load logs, and the MCP protocol of ``serve --stdio``."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def run(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run a CLI ``main``; bad input becomes one ``error:`` line on stderr and exit status 2.

    The outputs ``main`` claims (:func:`claim_outputs`) stay locked until it returns.
    """
    try:
        with contextlib.ExitStack() as locks:
            _LOCKS.append(locks)
            try:
                return int(main(argv) or 0)
            finally:
                _LOCKS.pop()
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error.filename or error}: no such file or directory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: no partial output was kept", file=sys.stderr)
        return 130


def name_value(value: str) -> tuple[str, str]:
    """Parse ``NAME=FILE`` (``--rewrites`` of search and encode, ``--qrels`` overrides of ``eval --table``)."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got {value!r}")
    return name, path


HISTORY_CUTS = ("auto", "none", "qrecc", "cast")  # mirrors topics.cuts.CUTS (+ auto) without importing it
HISTORY_RESPONSES = ("all", "last", "none")  # mirrors topics.cuts.RESPONSES


def add_conversation_args(parser: argparse.ArgumentParser) -> None:
    """The flags that say how conversations are read before formulation (search, encode queries, train build)."""
    parser.add_argument("--history-cut", default="auto", choices=HISTORY_CUTS,
                        help="character cuts of the conversation before formulation: qrecc (questions 320, answers "
                             "500 characters), cast (the reference CAsT 2020 preparation), none; auto (default): "
                             "the topic format's reference preparation (qrecc for QReCC, cast for CAsT 2020, and for "
                             "CAsT 2021/2022 as our extension: none reads those uncut), else the student's training "
                             "cut, else none")
    parser.add_argument("--history-responses", default=None, choices=HISTORY_RESPONSES,
                        help="answers kept in the history: all (as the references), the last one only, or none "
                             "(the explicit opt-out where the topics name answers by id but no texts are at hand; "
                             "default: as the student was trained, else all)")
    parser.add_argument("--responses-from", default=None, metavar="CORPUS_OR_INDEX",
                        help="collection (TSV/JSONL corpus, or an index with stored texts) to fetch the canonical "
                             "responses the topics name by id (CAsT 2020) for the history (default: the searched "
                             "index, when it stores texts; else this flag or --history-responses none is needed)")
    parser.add_argument("--strict", action="store_true",
                        help="a turn without the rewrite a rewrite policy needs is an error (default: its raw "
                             "utterance is used, with one warning naming the turns)")


def add_session_args(parser: argparse.ArgumentParser, responses: str) -> None:
    """The query encoder's flags for commands that hold live conversations (chat, serve); ``responses`` says where
    their answers come from."""
    group = parser.add_argument_group("encoder")
    group.add_argument("--device", default=None, type=device, help="encoder device (default: cuda if available)")
    group.add_argument("--max-length", type=COUNT, default=256, help="query token limit (DiSCo: 256)")
    group.add_argument("--query-topk", type=CUTOFF, default=None, metavar="K",
                       help="keep the K largest query weights (default: as trained, else all; 0: all)")
    group.add_argument("--history-cut", default="auto", choices=HISTORY_CUTS,
                       help="character cuts of the conversation (qrecc, cast, none); auto (default): the cut the "
                            "student was trained with, else none")
    group.add_argument("--history-responses", default=None, choices=HISTORY_RESPONSES,
                       help=f"answers in the history ({responses}): all, the last one only, or none (default: as "
                            "the student was trained, else all)")


class Output(NamedTuple):
    """One path a command writes: its flag, the path (``None``: not asked for), a good example name, whether it is
    a folder, and whether an existing one is extended, not replaced (resumed encodings and rewrites: the command
    checks it is its own)."""

    flag: str
    path: str | os.PathLike | None
    example: str
    directory: bool = False
    resumable: bool = False


def input_paths(value: Any) -> Iterator[Path]:
    """The existing paths in a flag's value: a path, ``NAME=PATH``, a ``(name, path)`` pair or a list of them.
    Hub names and dataset names are no paths here, so they are skipped."""
    if value is None:
        return
    if isinstance(value, (list, tuple)) and not (len(value) == 2 and isinstance(value, tuple)):
        for item in value:
            yield from input_paths(item)
        return
    if isinstance(value, tuple):  # (name, path) from name_value / named_run
        value = value[1]
    text = os.fspath(value)
    for candidate in (text, text.partition("=")[2]):
        if candidate and os.path.lexists(os.path.expanduser(candidate)):
            yield Path(os.path.expanduser(candidate))
            break


def claim_outputs(outputs: Sequence[Output], inputs: Mapping[str, Any], overwrite: bool = False) -> None:
    """The one output policy of every command that writes, applied before any model, JVM or corpus loads.

    Each output must be writable and of the right kind; it may not be, lie inside or contain an input (even with
    ``--overwrite``: that would destroy the input); two outputs may not be one path; an existing output is
    refused unless ``overwrite`` (or it is resumable); and each is locked until the command returns, so a
    second command writing it at the same time is refused.
    """
    wanted = [output for output in outputs if output.path is not None]
    for output in wanted:
        check_output_path(output.path, output.example, output.directory, output.flag)
        for flag, value in inputs.items():
            for source in input_paths(value):
                relation = overlap(output.path, source)
                if relation:
                    raise InputError(f"{output.flag} {relation} the {flag} input {source}; write it elsewhere "
                                     f"(--overwrite never replaces an input)", output.path)
    for i, first in enumerate(wanted):
        for second in wanted[i + 1:]:
            if overlap(first.path, second.path) or Path(first.path).resolve() == Path(second.path).resolve():
                raise InputError(f"{first.flag} and {second.flag} are the same path; give each its own",
                                 second.path)
    for output in wanted:
        target = Path(output.path)
        occupied = target.exists() and (not target.is_dir() or any(target.iterdir()))
        if occupied and not overwrite and not output.resumable:
            raise InputError(f"{output.flag} exists; pass --overwrite to replace it, or choose another "
                             f"{output.flag}", target)
    if _LOCKS:
        for output in wanted:
            _LOCKS[-1].enter_context(output_lock(output.path, output.flag))


def add_overwrite(parser: argparse.ArgumentParser, what: str = "output") -> None:
    """``--overwrite``: every command that writes has it."""
    parser.add_argument("--overwrite", action="store_true",
                        help=f"replace an existing {what} (never an input: outputs that overlap inputs are refused)")


def number(kind: type = int, minimum: float | None = None, maximum: float | None = None,
           above: float | None = None) -> Callable[[str], Any]:
    """An argparse ``type`` that checks a number when it is parsed: whole or finite (no nan, no inf) and in range.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower bound."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'a whole number' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum:g}, got {text}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"must be > {above:g}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum:g}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


COUNT = number(int, minimum=1)       # hits, threads, batch sizes, token limits
CUTOFF = number(int, minimum=0)      # ranks and top-k where 0 has a meaning
POSITIVE = number(float, above=0)    # factors and scales
FRACTION = number(float, above=0, maximum=1)


_MACHINE_CHECKS = [True]


@contextlib.contextmanager
def for_another_machine() -> Iterator[None]:
    """Within the block, ``--device`` is checked for its form only, not against this machine's devices: for
    checking commands meant to run elsewhere (``reproduce --dry-run`` of GPU conditions on a laptop)."""
    _MACHINE_CHECKS.append(False)
    try:
        yield
    finally:
        _MACHINE_CHECKS.pop()


def device(text: str) -> str:
    """An argparse ``type`` for ``--device``: cpu, cuda, cuda:N or mps, and only one this machine has."""
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and (kind != "cuda" or not index.isdigit())):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use cpu, cuda, cuda:N or mps")
    if kind == "cpu" or not _MACHINE_CHECKS[-1]:
        return text
    import torch

    if kind == "mps" and not torch.backends.mps.is_available():
        raise argparse.ArgumentTypeError("this machine has no MPS device; use cpu")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise argparse.ArgumentTypeError(f"this machine has no CUDA device; use cpu (got {text})")
        if int(index or 0) >= count:
            raise argparse.ArgumentTypeError(f"this machine has {count} CUDA device(s): cuda:0 to cuda:{count - 1}")
    return text


def check_precision(device_flag: str | None, dtype: str | None, flag: str = "--dtype") -> None:
    """Refuse fp16 where no CUDA device will run it (``device_flag`` ``None``: CUDA when the machine has one)."""
    if dtype != "fp16":
        return
    if device_flag is None:
        import torch

        device_flag = "cuda" if torch.cuda.is_available() else "cpu"
    if not device_flag.startswith("cuda"):
        raise InputError(f"{flag} fp16 needs a CUDA device; on the {device_flag.split(':')[0]} use fp32 or bf16")


def check_max_length(max_length: int | None, model: str | None, flag: str = "--max-length") -> None:
    """Refuse a token limit past a local model's position embeddings (hub models are checked when they load)."""
    from disco_pyserini.hub import model_positions

    positions = model_positions(model) if model and max_length else None
    if positions is not None and max_length > positions:
        raise InputError(f"{flag} {max_length} is more than the {positions} positions of the model {model}; "
                         f"use {flag} {positions} or less")


def check_java_environment() -> None:
    """``DISCO_JVM_HEAP`` and ``DISCO_JVM_OPTIONS`` checked before any work (commands that run Java)."""
    from disco_pyserini.jvm import extra_options, heap_option

    heap_option()
    extra_options()
