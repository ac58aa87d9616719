"""The reproduction catalogue: conditions named ``DATASET.MODEL.POLICY``, read from YAML, commands rendered.

A catalogue file has four sections (see ``conditions.yaml``):

- ``defaults``: variables every command sees (``--set NAME=VALUE`` overrides them);
- ``templates``: named steps, each a ``command`` with ``${variables}``, the ``output`` it makes and the
  templates it ``needs`` first;
- ``datasets``: per dataset its ``vars`` (topics, collection, qrels, history cut, ...), ``downloads``
  (a ``url`` fetched with curl, or a ``manual`` instruction for licensed data) and the templates every one of
  its conditions ``needs`` first (building qrels, the sample's model);
- ``conditions``: one per table row: ``dataset``, ``model``, ``policy``, the template that writes its run
  (``search``), extra ``needs``, ``vars`` and ``expected`` scores with their ``source`` and ``tolerance`` (or a
  ``missing`` note saying why there are none).

Rendering quotes each substituted value for the shell, except variables named ``*_flags`` (groups of flags,
possibly empty). Steps are identified by their rendered command: two conditions that need the same encoding
or index render the same step, which runs once.
"""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

from disco_pyserini.errors import InputError
from disco_pyserini.textio import read_text

HERE = Path(__file__).resolve().parent
CATALOGUE_FILES = (HERE / "conditions.yaml", HERE / "sample.yaml")
VARIABLE = re.compile(r"\$\{(\w+)\}")
NAME_PART = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class Expected(NamedTuple):
    """Expected scores (metric -> value) with where they come from and the tolerance of a match."""

    scores: dict[str, float]
    source: str
    tolerance: float
    missing: str  # why some or all scores are absent ("" when none are)


class Step(NamedTuple):
    """One command of a condition; ``manual`` (non-empty) means the user fetches ``output`` by hand."""

    template: str
    command: str
    output: str
    manual: str = ""


class Condition(NamedTuple):
    """One table row: its steps in order (downloads, shared steps, the search), run file and eval command."""

    name: str
    dataset: str
    dataset_display: str
    display: str
    model: str
    policy: str
    steps: tuple[Step, ...]
    run: str
    eval_command: str
    expected: Expected
    note: str


class Catalogue(NamedTuple):
    defaults: dict[str, str]
    templates: dict[str, dict[str, Any]]
    datasets: dict[str, dict[str, Any]]
    conditions: list[dict[str, Any]]


def read_catalogue(paths: Sequence[str | os.PathLike] = CATALOGUE_FILES) -> Catalogue:
    """The catalogue files merged; a name defined twice (template, dataset, condition) is an error."""
    import yaml

    merged = Catalogue({}, {}, {}, [])
    for path in paths:
        try:
            data = yaml.safe_load(read_text(path, "catalogue")) or {}
        except yaml.YAMLError as error:
            raise InputError(f"invalid YAML: {str(error).splitlines()[0]}", path) from None
        unknown = set(data) - {"defaults", "templates", "datasets", "conditions"}
        if unknown:
            raise InputError(f"unknown section(s) {', '.join(sorted(unknown))}", path)
        merged.defaults.update({k: str(v) for k, v in (data.get("defaults") or {}).items()})
        for section in ("templates", "datasets"):
            for key, value in (data.get(section) or {}).items():
                if key in getattr(merged, section):
                    raise InputError(f"{section[:-1]} {key!r} is defined twice", path)
                getattr(merged, section)[key] = value
        merged.conditions.extend(data.get("conditions") or [])
    return merged


def expand(text: str, variables: Mapping[str, str], quote: bool = True, where: str = "", _depth: int = 0) -> str:
    """``text`` with each ``${name}`` replaced by its (recursively expanded) value, shell-quoted if ``quote``
    (values of ``*_flags`` variables are inserted as they are)."""
    if _depth > 20:
        raise InputError(f"{where}: variables refer to each other in a loop")

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in variables:
            raise InputError(f"{where}: unknown variable ${{{name}}}; define it in the catalogue or with --set "
                             f"{name}=VALUE")
        value = expand(str(variables[name]), variables, False, where, _depth + 1)
        return shlex.quote(value) if quote and not name.endswith("_flags") else value

    return VARIABLE.sub(replace, text)


def condition_name(dataset: str, model: str, policy: str) -> str:
    """``DATASET.MODEL.POLICY``; a policy's ``:`` (``rewrite:mistral``) becomes ``-``."""
    return f"{dataset}.{model}.{policy.replace(':', '-')}"


def build_conditions(catalogue: Catalogue, work: str, data: str,
                     overrides: Mapping[str, str] | None = None) -> list[Condition]:
    """Every condition of the catalogue with its commands rendered for the work and data folders."""
    from disco_pyserini.sample import DATA_DIR

    conditions, seen = [], set()
    for entry in catalogue.conditions:
        condition = _build(catalogue, entry, {"work": work, "data": data, "sample_data": str(DATA_DIR)},
                           dict(overrides or {}))
        if condition.name in seen:
            raise InputError(f"condition {condition.name} is defined twice")
        seen.add(condition.name)
        conditions.append(condition)
    return conditions


def _build(catalogue: Catalogue, entry: dict, builtins: dict[str, str], overrides: dict[str, str]) -> Condition:
    try:
        dataset, model, policy = entry["dataset"], str(entry["model"]), str(entry["policy"])
    except KeyError as error:
        raise InputError(f"a condition has no {error.args[0]!r}: {entry}") from None
    name = condition_name(dataset, model, policy)
    if dataset not in catalogue.datasets:
        raise InputError(f"{name}: unknown dataset {dataset!r}")
    if not all(NAME_PART.match(part) for part in name.split(".")) or name.count(".") != 2:
        raise InputError(f"{name}: condition names are DATASET.MODEL.POLICY in lower case, digits and '-'")
    spec = catalogue.datasets[dataset]
    retriever = entry.get("retriever", "splade")
    variables = {**builtins, **catalogue.defaults, **{k: str(v) for k, v in (spec.get("vars") or {}).items()},
                 **{k: str(v) for k, v in (entry.get("vars") or {}).items()}, **overrides}
    variables.update(dataset=dataset, model=model, policy=policy, retriever=retriever,
                     run="${work}/runs/" + f"{dataset}.{retriever}.{policy.replace(':', '-')}.{model}.trec")
    steps: list[Step] = []
    for download in spec.get("downloads") or []:
        steps.append(_download(download, variables, f"{name}: download {download.get('name', '?')}"))
    for template in [*(spec.get("needs") or []), *(entry.get("needs") or [])]:
        _add(catalogue, template, variables, steps, name, ())
    _add(catalogue, entry.get("search", "search-splade"), variables, steps, name, ())
    run = expand("${run}", variables, quote=False)
    eval_command = shlex.join(shlex.split(expand(_template(catalogue, entry.get("eval", "eval"), name)["command"],
                                                 variables, where=f"{name}: eval")))
    return Condition(name, dataset, spec.get("display", dataset), entry.get("display", name), model, policy,
                     tuple(steps), run, eval_command, _expected(entry, name), str(entry.get("note", "")).strip())


def _template(catalogue: Catalogue, template: str, name: str) -> dict:
    if template not in catalogue.templates:
        raise InputError(f"{name}: unknown template {template!r}")
    return catalogue.templates[template]


def _add(catalogue: Catalogue, template: str, variables: dict, steps: list[Step], name: str,
         chain: tuple[str, ...]) -> None:
    """Append ``template`` after what it needs, each step once."""
    if template in chain:
        raise InputError(f"{name}: templates need each other in a loop: {' -> '.join(chain + (template,))}")
    spec = _template(catalogue, template, name)
    for needed in spec.get("needs") or []:
        _add(catalogue, needed, variables, steps, name, chain + (template,))
    where = f"{name}: {template}"
    command = expand(spec["command"], variables, where=where)
    # Re-joined word by word: an empty *_flags variable leaves no double space behind.
    step = Step(template, shlex.join(shlex.split(command)) if "&&" not in command else command,
                expand(spec.get("output", ""), variables, quote=False, where=where))
    if step not in steps:
        steps.append(step)


def _download(spec: dict, variables: dict, where: str) -> Step:
    output = expand(spec["output"], variables, quote=False, where=where)
    if "url" in spec:
        part = shlex.quote(output + ".part")
        command = (f"curl -fL --create-dirs -o {part} {shlex.quote(expand(spec['url'], variables, False, where))} "
                   f"&& mv {part} {shlex.quote(output)}")
        return Step("download", command, output)
    if "manual" not in spec:
        raise InputError(f"{where}: a download needs a url or a manual instruction")
    return Step("download", "", output, " ".join(str(spec["manual"]).split()))


def _expected(entry: dict, name: str) -> Expected:
    spec = entry.get("expected") or {}
    scores = {str(k): float(v) for k, v in (spec.get("scores") or {}).items()}
    missing = " ".join(str(spec.get("missing", "")).split())
    if scores and not spec.get("source"):
        raise InputError(f"{name}: expected scores need their source")
    if not scores and not missing:
        raise InputError(f"{name}: give expected scores with their source, or say why there are none (missing:)")
    return Expected(scores, " ".join(str(spec.get("source", "")).split()), float(spec.get("tolerance", 0.005)),
                    missing)


def select(conditions: Sequence[Condition], names: Sequence[str] = (), dataset: str | None = None,
           everything: bool = False) -> list[Condition]:
    """The conditions named (in catalogue order), or all (of ``dataset``); unknown names are an error."""
    known = {c.name: c for c in conditions}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"unknown condition {unknown[0]!r}; list them with --list")
    if dataset is not None and dataset not in {c.dataset for c in conditions}:
        raise InputError(f"unknown --dataset {dataset!r}; choose one of "
                         f"{', '.join(sorted({c.dataset for c in conditions}))}")
    chosen = [c for c in conditions if c.name in names or (everything and dataset in (None, c.dataset))]
    return chosen
