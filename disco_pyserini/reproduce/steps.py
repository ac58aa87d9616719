"""Run, check or parse one step of a condition, and remember which steps are done.

A ``python -m disco_pyserini.X`` step runs in this process through X's own ``main`` (one JVM and one set of
imports for the whole matrix); any other step (downloads) runs in the shell. Steps are known by their output in
the work folder: the folder's ``.reproduce/steps.json`` records the command that made each output and whether it
finished, so that a finished step is skipped, an interrupted one is run again (encoding resumes), an output made
by a different command is reported instead of silently reused, and one found there without a record (made by
hand, or by the demo) is reused.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, Sequence

from disco_pyserini import cli
from disco_pyserini.atomic import atomic_write
from disco_pyserini.errors import InputError
from disco_pyserini.reproduce.catalogue import Step

PACKAGE = "disco_pyserini"


class _Parsed(Exception):
    """Raised by the patched ``parse_args``: the command line parsed, nothing else ran."""

    def __init__(self, namespace: argparse.Namespace):
        super().__init__()
        self.namespace = namespace


def toolkit_command(command: str) -> tuple[str, list[str]] | None:
    """``(module, argv)`` for ``python -m disco_pyserini.X ARGS``, else ``None`` (a shell step)."""
    words = shlex.split(command)
    if len(words) >= 3 and words[0] in ("python", "python3") and words[1] == "-m" and \
            words[2].split(".")[0] == PACKAGE:
        return words[2], words[3:]
    return None


def _main(module: str) -> Callable[[Sequence[str] | None], int | None]:
    try:
        loaded = importlib.import_module(module)
        if hasattr(loaded, "__path__"):  # a package: its __main__ holds the CLI
            loaded = importlib.import_module(f"{module}.__main__")
    except ModuleNotFoundError as error:
        raise InputError(f"no command python -m {module}: {error}") from None
    return loaded.main


def parse_command(command: str) -> argparse.Namespace:
    """Parse a toolkit command with its CLI's real argument parser and stop there; a bad flag is an
    :class:`InputError` quoting argparse's message."""
    target = toolkit_command(command)
    if target is None:
        raise InputError(f"not a python -m {PACKAGE}.* command: {command}")
    module, argv = target
    main = _main(module)
    original = argparse.ArgumentParser.parse_args

    def parse_only(parser, args=None, namespace=None):
        raise _Parsed(original(parser, args, namespace))

    errors = io.StringIO()
    argparse.ArgumentParser.parse_args = parse_only
    try:
        # the catalogue's commands name the devices of the machines they were measured on
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()), cli.for_another_machine():
            main(argv)
    except _Parsed as parsed:
        return parsed.namespace
    except SystemExit:
        message = errors.getvalue().strip().splitlines()
        raise InputError(f"{module} rejects the command: {message[-1] if message else 'exit'}: {command}") from None
    finally:
        argparse.ArgumentParser.parse_args = original
    raise InputError(f"{module} did not parse its arguments: {command}")


def run_step(step: Step) -> None:
    """Run ``step``; its output appears only if it succeeds (toolkit commands write atomically, downloads go
    to ``OUTPUT.part`` first). A failure raises :class:`InputError` naming the command."""
    if step.manual:
        raise InputError(f"{step.output} is missing: {step.manual}; then run again")
    target = toolkit_command(step.command)
    if target is None:
        result = subprocess.run(step.command, shell=True)
        if result.returncode != 0:
            raise InputError(f"step failed (exit {result.returncode}): {step.command}")
        return
    from disco_pyserini import cli

    module, argv = target
    # The steps' own reports go to stderr: stdout carries the matrix.
    with contextlib.redirect_stdout(sys.stderr):
        status = cli.run(_main(module), argv)
    if status != 0:
        raise InputError(f"step failed (exit {status}): {step.command}")


class StepState:
    """What the work folder already holds: ``steps.json`` maps each output to the command that made it and
    whether that command finished (an interrupted encoding is resumed, not taken for done)."""

    def __init__(self, work: str | os.PathLike):
        self.path = Path(work) / ".reproduce" / "steps.json"
        self.made: dict[str, dict] = {}
        if self.path.is_file():
            try:
                self.made = json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                raise InputError("damaged record of finished steps; delete it to start the record afresh",
                                 self.path) from None

    def status(self, step: Step) -> str:
        """``done``; ``found`` (there, not made here: reused); ``to run``; ``missing`` (a manual download not
        there yet); ``conflict`` (made here by another command)."""
        exists = bool(step.output) and Path(step.output).exists()
        record = self.made.get(step.output)
        if not exists:
            return "missing" if step.manual else "to run"
        if record is None or not step.command:
            return "found" if record is None and step.command else "done"
        if record["command"] != step.command:
            return "conflict"
        return "done" if record["finished"] else "to run"

    def record(self, step: Step, finished: bool) -> None:
        self.made[step.output] = {"command": step.command, "finished": finished}
        with atomic_write(self.path) as handle:
            json.dump(self.made, handle, indent=1, sort_keys=True)


def check_step(state: StepState, step: Step) -> None:
    """Refuse to reuse an output that a different command made: the user decides what to do with it."""
    if state.status(step) == "conflict":
        raise InputError(f"{step.output} was made by another command ({state.made[step.output]['command']}); "
                         f"remove it or use another --work-dir to run: {step.command}")


def ensure(state: StepState, steps: Sequence[Step], log: Callable[[str], None]) -> Iterator[Step]:
    """Run the steps not done yet, in order; yields each step it ran."""
    for step in steps:
        check_step(state, step)
        if state.status(step) in ("done", "found"):
            continue
        log(f"running: {step.command or step.output}")
        if step.output and not step.manual:
            state.record(step, finished=False)
        run_step(step)
        if step.output and not Path(step.output).exists():
            raise InputError(f"step finished without writing {step.output}: {step.command}")
        if step.output:
            state.record(step, finished=True)
        yield step
