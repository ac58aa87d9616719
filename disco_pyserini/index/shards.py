"""Sharded indexes: one index per shard of a collection under one folder, with a manifest naming them.

``python -m disco_pyserini.index --shards N`` splits the part files of an export into ``N`` groups
and builds one index per group (any backend) in ``OUT/shard-000`` ... ; ``--shard-id I`` builds one
of them (on another machine, say) and the folder is joined once every shard is there. Layout::

    OUT/shards.json          the manifest: backend, shard count, encoding, each shard's files and documents
    OUT/shard-III/           an ordinary index of the backend, plus shard.json (which shard, built from what)

Which part files go to which shard (the same on every machine, from the file names alone):

* vectors encoded in ``M > 1`` shards (``encode docs --shard-id/--shard-num M``): index shard ``i``
  of ``N <= M`` holds the encode shards ``s`` with ``s * N // M == i`` (``N == M``: shard ``i`` is
  encode shard ``i``, and a machine needs only its own part files);
* vectors encoded whole: the part files, in name order, are cut into ``N`` contiguous runs of
  near-equal file counts (every chunk but the last holds ``--docs-per-file`` documents).

``M`` is ``encoding.json``'s ``shard_num`` (recorded since sharded indexes exist), else inferred
from the highest shard number among the part files.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.export import CHECKED_KEYS, METADATA, read_metadata
from disco_pyserini.errors import InputError
from disco_pyserini.index.build import IndexStats, collection_files
from disco_pyserini.index.layout import BACKENDS, INFO, MANIFEST, SHARD_INFO, check_replaceable, read_info, staging

FORMAT = "disco-pyserini/shards-v1"
PART = re.compile(r"part-(\d+)-\d+\.jsonl(\.gz)?$")
# backend.json keys that must agree between shards: scores of one engine and kind merge, others would not
SHARED_INFO = ("backend", "kind")


def shard_name(shard_id: int) -> str:
    return f"shard-{shard_id:03d}"


class ShardPlan(NamedTuple):
    """Which part files each index shard holds, and how they were split."""

    partition: str            # "encode-shards" or "chunks"
    encode_shards: int
    files: list[list[Path]]   # files[i]: the part files of index shard i


def _encode_shard(path: Path) -> int:
    match = PART.match(path.name)
    return int(match.group(1)) if match else 0  # files not named by the export count as one whole encoding


def plan_shards(input_dir: Path, shards: int, only: int | None = None) -> ShardPlan:
    """Split ``input_dir``'s part files into ``shards`` groups (see the module docstring); with ``only``,
    just that shard's group must be complete."""
    if shards < 1:
        raise InputError(f"--shards must be >= 1, got {shards}")
    if only is not None and not 0 <= only < shards:
        raise InputError(f"--shard-id must be in [0, --shards) (got {only} of {shards})")
    files = collection_files(input_dir)
    numbers = [_encode_shard(p) for p in files]
    recorded = (read_metadata(input_dir) or {}).get("shard_num")
    encode_shards = max(int(recorded or 1), max(numbers) + 1)
    if encode_shards == 1:
        if len(files) < shards:
            raise InputError(f"the vectors are {len(files)} part file(s), fewer than --shards {shards}; re-encode "
                             "with a smaller --docs-per-file, or in shards (encode docs --shard-num)", input_dir)
        groups = [files[len(files) * i // shards:len(files) * (i + 1) // shards] for i in range(shards)]
        return ShardPlan("chunks", 1, groups)
    if shards > encode_shards:
        raise InputError(f"the vectors were encoded in {encode_shards} shards (encode docs --shard-num "
                         f"{encode_shards}); index them in at most that many (--shards {encode_shards}, or a "
                         "divisor of it for even shards)", input_dir)
    groups = [[] for _ in range(shards)]
    for path, number in zip(files, numbers):
        groups[number * shards // encode_shards].append(path)
    for i in range(shards) if only is None else (only,):
        wanted = [s for s in range(encode_shards) if s * shards // encode_shards == i]
        present = {n for n in numbers if n in wanted}
        missing = [s for s in wanted if s not in present]
        if missing:
            raise InputError(f"index shard {i} needs the part files of encode shard(s) "
                             f"{', '.join(map(str, missing))} (part-{missing[0]:03d}-*.jsonl), which are not "
                             f"here; encode them first (encode docs --shard-id {missing[0]} --shard-num "
                             f"{encode_shards})", input_dir)
    return ShardPlan("encode-shards", encode_shards, groups)


def build_backend(backend: str, input_dir: str | os.PathLike, index_dir: str | os.PathLike,
                  options: dict[str, Any]) -> IndexStats:
    """Build one ``backend`` index of ``input_dir`` with that backend's builder and its keyword ``options``."""
    if backend == "bmp":
        from disco_pyserini.index.bmp import build_bmp_index

        return build_bmp_index(input_dir, index_dir, **options)
    if backend == "seismic":
        from disco_pyserini.index.seismic import build_seismic_index

        return build_seismic_index(input_dir, index_dir, **options)
    from disco_pyserini.index.build import build_index

    return build_index(input_dir, index_dir, **options)


def _shard_view(files: list[Path], input_dir: Path, into: Path) -> Path:
    """A folder of links to one shard's part files, with the export's ``encoding.json`` beside them."""
    into.mkdir(parents=True)
    for path in files:
        (into / path.name).symlink_to(path.resolve())
    if (input_dir / METADATA).exists():
        shutil.copyfile(input_dir / METADATA, into / METADATA)
    return into


def _build_shard(backend: str, input_dir: Path, files: list[Path], out: Path, shard_id: int, plan: ShardPlan,
                 options: dict[str, Any]) -> int:
    """Build shard ``shard_id`` into ``out/shard-III`` (complete, with its shard.json, or not at all)."""
    name = shard_name(shard_id)
    partial = out / f".{name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        view = _shard_view(files, input_dir, partial / "input")
        documents = build_backend(backend, view, partial / "index", options).documents
        record = {"shard": shard_id, "shards": len(plan.files), "partition": plan.partition,
                  "encode_shards": plan.encode_shards, "input": str(input_dir.resolve()),
                  "files": [p.name for p in files], "documents": documents}
        (partial / "index" / SHARD_INFO).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n",
                                                    encoding="utf-8")
        if (out / name).exists():
            shutil.rmtree(out / name)  # the caller checked it may be replaced
        os.replace(partial / "index", out / name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return documents


def _remove_dead_partials(out: Path) -> None:
    for stale in out.glob(".shard-*.partial-*"):
        pid = stale.name.rsplit("-", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)


def _build_all(backend: str, input_dir: Path, out: Path, plan: ShardPlan, wanted: list[int], threads: int,
               options: dict[str, Any], progress: bool) -> int:
    """Build shards ``wanted`` into ``out``, in parallel processes where ``threads`` allow; their documents."""
    options = dict(options)
    workers = max(1, min(len(wanted), threads))
    if backend in ("lucene", "seismic"):
        options["threads"] = max(1, threads // workers)
    if backend in ("bmp", "seismic"):
        options["progress"] = progress and workers == 1
    options["overwrite"] = False  # each shard is built in a fresh folder, then moved into place
    if workers == 1:
        return sum(_build_shard(backend, input_dir, plan.files[i], out, i, plan, options) for i in wanted)
    # spawn, not fork: a forked child would share whatever JVM or Rust threads this process holds
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = [pool.submit(_build_shard, backend, input_dir, plan.files[i], out, i, plan, options) for i in wanted]
        return sum(job.result() for job in jobs)


def build_sharded_index(input_dir: str | os.PathLike, index_dir: str | os.PathLike, shards: int, *,
                        backend: str = "lucene", shard_id: int | None = None, threads: int = 1,
                        overwrite: bool = False, options: dict[str, Any] | None = None,
                        progress: bool = True) -> tuple[int, float]:
    """Build every shard of ``input_dir`` into ``index_dir`` (in a temporary folder, renamed when all are done),
    or only ``shard_id`` into its place there; the folder is joined when every shard is there. ``options`` are
    the backend builder's keywords. Returns (documents, seconds)."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    started = time.perf_counter()
    input_dir, out = Path(input_dir), Path(index_dir)
    plan = plan_shards(input_dir, shards, shard_id)
    options = options or {}
    if shard_id is None:
        with staging(out, overwrite, (input_dir,)) as tmp:
            documents = _build_all(backend, input_dir, tmp, plan, list(range(shards)), threads, options, progress)
            join_shards(tmp)
        return documents, time.perf_counter() - started
    check_replaceable(out, True, (input_dir,))  # a file, a folder of other files, or the input: refused
    if (out / INFO).exists():
        raise InputError("this is a single index, not a folder of shards; give the shards their own folder", out)
    shard = out / shard_name(shard_id)
    if shard.exists() and not overwrite:
        raise InputError("this shard already exists; pass --overwrite to rebuild it", shard)
    _check_joinable(out, shard_id, backend, plan, input_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_dead_partials(out)
    documents = _build_all(backend, input_dir, out, plan, [shard_id], threads, options, progress)
    if all((out / shard_name(i) / SHARD_INFO).exists() for i in range(shards)):
        join_shards(out)
    return documents, time.perf_counter() - started


def _check_joinable(out: Path, shard_id: int, backend: str, plan: ShardPlan, input_dir: Path) -> None:
    """Refuse, before building, a shard that would not join the shards already in ``out``."""
    others = sorted(f for f in out.glob("shard-*") if f.is_dir() and f.name != shard_name(shard_id))
    if not others:
        return
    folder, record = others[0], _shard_record(others[0])
    new = {"backend": backend, "shards": len(plan.files), "partition": plan.partition,
           "encode_shards": plan.encode_shards}
    old = {"backend": (read_info(folder) or {}).get("backend"),
           **{key: record.get(key) for key in ("shards", "partition", "encode_shards")}}
    for key, value in new.items():
        if value != old[key]:
            raise InputError(f"{key} {value!r} here but {old[key]!r} in {folder.name}: shards of one index must be "
                             "built alike; build this one as the others (or the whole index again)", out)
    encoding, existing = _encoding(input_dir), _encoding(folder)
    for key in CHECKED_KEYS:
        if encoding[key] != existing[key]:
            raise InputError(f"vectors of another encoding than {folder.name}'s ({key} {encoding[key]!r} here, "
                             f"{existing[key]!r} there); build every shard from the same vectors", input_dir)


def _shard_record(folder: Path) -> dict:
    path = folder / SHARD_INFO
    if not path.exists():
        raise InputError(f"not a shard (no {SHARD_INFO}); rebuild it with 'python -m disco_pyserini.index "
                         "--shards N --shard-id I'", folder)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON ({error.msg}); rebuild the shard", path) from None
    if not isinstance(record, dict) or not isinstance(record.get("shard"), int) or \
            not isinstance(record.get("shards"), int):
        raise InputError('expected {"shard": I, "shards": N, ...}; rebuild the shard', path)
    return record


def _encoding(folder: Path) -> dict:
    metadata = read_metadata(folder) or {}
    return {key: metadata.get(key) for key in CHECKED_KEYS}


def _compatible(folders: list[Path], records: list[dict]) -> dict:
    """Refuse shards that would not merge: other shard counts, engines, index kinds, encodings, or
    shards of other splits of the vectors (overlapping files). Returns the shards' common backend.json keys."""
    first, first_info, first_encoding = folders[0], read_info(folders[0]) or {}, _encoding(folders[0])
    owner: dict[str, str] = {}
    for folder, record in zip(folders, records):
        info = read_info(folder) or {}
        for key in SHARED_INFO:
            if info.get(key) != first_info.get(key):
                raise InputError(f"{key} {info.get(key)!r} here but {first_info.get(key)!r} in {first.name}: shards "
                                 "of one index must be built alike; rebuild this shard", folder)
        encoding = _encoding(folder)
        for key in CHECKED_KEYS:
            if encoding[key] != first_encoding[key]:
                raise InputError(f"vectors of another encoding than {first.name}'s ({key} {encoding[key]!r} here, "
                                 f"{first_encoding[key]!r} there); rebuild this shard from the same vectors", folder)
        for key in ("shards", "partition", "encode_shards"):
            if record.get(key) != records[0].get(key):
                raise InputError(f"{key} {record.get(key)!r} here but {records[0].get(key)!r} in {first.name}; "
                                 "rebuild the shards with the same --shards from the same vectors", folder)
        for name in record.get("files", []):
            if name in owner:
                raise InputError(f"{name} is in both {owner[name]} and {folder.name}: the vectors were split two "
                                 "ways; rebuild the shards with the same --shards", folder)
            owner[name] = folder.name
    return {key: first_info.get(key) for key in SHARED_INFO}


def shard_folders(out: Path) -> list[Path]:
    """The ``shard-*`` folders of ``out``, checked to be shards 0..N-1 of one N, each once."""
    folders = sorted(p for p in out.glob("shard-*") if p.is_dir())
    if not folders:
        raise InputError("no shard-* folders here; build them with 'python -m disco_pyserini.index --shards N'", out)
    records = [_shard_record(f) for f in folders]
    count = records[0]["shards"]
    seen: dict[int, Path] = {}
    for folder, record in zip(folders, records):
        if record["shards"] != count:
            raise InputError(f"shard {record['shard']} of {record['shards']}, but {folders[0].name} is one of "
                             f"{count}; rebuild the shards with the same --shards", folder)
        if record["shard"] in seen:
            raise InputError(f"duplicate shard {record['shard']} (also {seen[record['shard']].name}); remove one",
                             folder)
        if folder.name != shard_name(record["shard"]):
            raise InputError(f"holds shard {record['shard']}, so should be named {shard_name(record['shard'])}",
                             folder)
        seen[record["shard"]] = folder
    missing = [i for i in range(count) if i not in seen]
    if missing:
        raise InputError(f"missing shard(s) {', '.join(map(str, missing))} of {count}; build them with "
                         f"'python -m disco_pyserini.index --shards {count} --shard-id {missing[0]}' (or copy "
                         "them here)", out)
    _compatible(folders, records)
    return folders


def join_shards(index_dir: str | os.PathLike) -> dict:
    """Check the shards of ``index_dir`` (all there, each once, built alike) and write its manifest."""
    out = Path(index_dir)
    folders = shard_folders(out)
    records = [_shard_record(f) for f in folders]
    info = read_info(folders[0]) or {}
    manifest = {"format": FORMAT, "backend": info["backend"], "kind": info.get("kind"), "shards": len(folders),
                "partition": records[0]["partition"], "encode_shards": records[0]["encode_shards"],
                "documents": sum(int(r["documents"]) for r in records), "encoding": read_metadata(folders[0]),
                "parts": [{"name": f.name, "documents": r["documents"], "input": r["input"], "files": r["files"]}
                          for f, r in zip(folders, records)]}
    with atomic_write(out / MANIFEST) as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return manifest


def read_manifest(index_dir: str | os.PathLike, check_shards: bool = True) -> dict:
    """The manifest of a sharded index, after checking that its shards are all there and still alike
    (``check_shards=False``: the manifest alone, for shards that live on other machines)."""
    out = Path(index_dir)
    path = out / MANIFEST
    if not path.exists():
        raise InputError(f"these shards are not joined (no {MANIFEST}); join them with 'python -m "
                         f"disco_pyserini.index --index {out} --join' once every shard is here", out)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"malformed JSON ({error.msg}); join the shards again (index --join)", path) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
            manifest.get("backend") not in BACKENDS or not isinstance(manifest.get("parts"), list):
        raise InputError(f"not a {FORMAT} manifest; join the shards again (index --join)", path)
    if not check_shards:
        return manifest
    folders = shard_folders(out)
    if [f.name for f in folders] != [p["name"] for p in manifest["parts"]]:
        raise InputError(f"the shards here ({len(folders)}) are not those the manifest names "
                         f"({len(manifest['parts'])}); join them again (index --index {out} --join)", out)
    if (read_info(folders[0]) or {}).get("backend") != manifest["backend"]:
        raise InputError("the shards were rebuilt with another backend; join them again (index --join)", out)
    return manifest
