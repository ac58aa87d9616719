"""Training configuration: a YAML (or JSON) file of :class:`TrainConfig` fields, overridable from the CLI.

Defaults are the authors' released configuration (``conf/disco_topiocqa_mistral_llama.yaml``). Example
(``disco.yaml``; every key but ``distillation``/``corpus``/``model`` has the default shown)::

    distillation: data/topiocqa.distill.jsonl   # from `python -m disco_pyserini.train build`
    corpus: data/corpus.jsonl                   # passages named in the distillation file
    model: naver/splade-cocondenser-ensembledistil   # query encoder initialisation (hub name or path)
    doc_encoder: null          # frozen document encoder; null = same checkpoint as `model`
    output_dir: runs/disco
    teachers: null             # teacher names to distil (null = all in the file; a single name is a list of one)
    fusion: mean               # of several teachers' scores: mean | max | separate (one loss per teacher, averaged)
    negatives: 16              # drawn afresh each epoch from the turn's pool (teacher ranks 11-960)
    positive_score: reference  # reference: the positive's score if in the pool's ranks, else the best there
                               # exact: the positive's own score (see disco_pyserini.train.build)
    norm: null                 # a student run (run.json or TREC): rescale teacher scores into its per-turn range
    losses: {kl: 0.99, contrastive: 0.01, anti_zero: 1.0}   # also margin_mse (all document pairs)
    in_batch: negatives        # contrastive against every in-batch negative; all: every in-batch document
    reg_q: l1                  # l1 | flops, on query vectors
    lambda_q: 0.0
    lambda_d: 0.0              # FLOPS on documents: needs a trainable doc encoder, so must stay 0
    reg_warmup_steps: 0        # T of lambda_t = min(lambda, lambda * (step / (T + 1))^2)
    query_topk: null           # keep only the k largest query weights (training and analysis)
    trainable: null            # regexes of query-encoder parameter names to train (null = all; others frozen)
    max_length: 256
    learning_rate: 2.0e-5
    batch_size: 10             # per device: under torchrun the global batch is batch_size x processes
    epochs: 5
    max_steps: -1
    warmup_ratio: 0.01
    weight_decay: 0.0
    precision: auto            # auto (fp16 on CUDA, fp32 on CPU) | fp32 | fp16 | bf16
    seed: 123
    logging_steps: 50
    save_steps: 0              # 0: save the final model only
    training_args: {}          # any other transformers.TrainingArguments field (dataloader_drop_last: true by default)

Instead of ``distillation``, a teacher run can be given directly (built in memory with ``train build``'s
defaults; for other settings run ``train build``)::

    teacher_run: run.json      # or a list of [NAME=]FILE runs, fused by run_fusion (merge | mean | max)
    topics: train.json         # (and topics_format when detection is ambiguous)
    qrels: topiocqa_train.qrels
    qids: auto                 # how the run's and qrels' query ids name turns: auto | topic | row
    history_cut: auto          # how the conversations are read, as `train build --history-cut`
    history_responses: all     # (and --history-responses: all | last | none, --responses-from)
    responses_from: null       # CAsT 2020's canonical responses by id: null reads them from corpus
"""
from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
import re
from pathlib import Path
from typing import Any, Iterable

from disco_pyserini.errors import InputError

VECTOR_LOSSES = ("contrastive", "anti_zero")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
LIST_KEYS = ("teachers", "trainable", "teacher_run")


@dataclasses.dataclass
class TrainConfig:
    """Everything a student training run needs; see the module docstring for meanings."""

    corpus: str
    model: str
    distillation: str | None = None
    teacher_run: list[str] | None = None
    run_fusion: str = "merge"
    topics: str | None = None
    topics_format: str | None = None
    qrels: str | None = None
    qids: str = "auto"
    history_cut: str = "auto"
    history_responses: str = "all"
    responses_from: str | None = None
    doc_encoder: str | None = None
    output_dir: str = "runs/disco"
    teachers: list[str] | None = None
    fusion: str = "mean"
    negatives: int = 16
    positive_score: str = "reference"
    norm: str | None = None
    losses: dict[str, float] = dataclasses.field(
        default_factory=lambda: {"kl": 0.99, "contrastive": 0.01, "anti_zero": 1.0})
    in_batch: str = "negatives"
    reg_q: str = "l1"
    lambda_q: float = 0.0
    lambda_d: float = 0.0
    reg_warmup_steps: int = 0
    query_topk: int | None = None
    trainable: list[str] | None = None
    max_length: int = 256
    learning_rate: float = 2e-5
    batch_size: int = 10
    epochs: float = 5
    max_steps: int = -1
    warmup_ratio: float = 0.01
    weight_decay: float = 0.0
    precision: str = "auto"
    seed: int = 123
    logging_steps: int = 50
    save_steps: int = 0
    training_args: dict[str, Any] = dataclasses.field(default_factory=dict)

    def validate(self, source: str | os.PathLike | None = None) -> "TrainConfig":
        """Check names and ranges; raise a one-line :class:`InputError` naming the bad key."""
        # Imported here, not at the top: the config (and so `--help`) must not load torch.
        from disco_pyserini.train.data import FUSIONS, POSITIVE_SCORES
        from disco_pyserini.train.losses import IN_BATCH, LOSSES
        from disco_pyserini.train.model import REGULARISERS
        from disco_pyserini.train.teacher_runs import QID_STYLES, RUN_FUSIONS
        from disco_pyserini.topics.cuts import CUTS, RESPONSES

        if Path(self.output_dir).exists() and not Path(self.output_dir).is_dir():
            raise InputError(f"output_dir {self.output_dir} is a file; give a folder for the student", source)
        if self.history_cut not in ("auto", *CUTS):
            raise InputError(f"unknown history_cut {self.history_cut!r}; choose auto or one of {', '.join(CUTS)}",
                             source)
        if self.history_responses not in RESPONSES:
            raise InputError(f"unknown history_responses {self.history_responses!r}; choose one of "
                             f"{', '.join(RESPONSES)}", source)

        known = set(LOSSES) | set(VECTOR_LOSSES)
        for name, weight in self.losses.items():
            if name not in known:
                raise InputError(f"unknown loss {name!r} in 'losses'; choose from {', '.join(sorted(known))}", source)
            if not isinstance(weight, (int, float)) or weight < 0:
                raise InputError(f"loss weight of {name!r} must be a number >= 0, got {weight!r}", source)
        if not any(self.losses.get(name, 0) > 0 for name in (*LOSSES, "contrastive")):
            raise InputError("'losses' needs a positive weight on kl, margin_mse or contrastive", source)
        if (self.distillation is None) == (self.teacher_run is None):
            raise InputError("give either 'distillation' (a built file) or 'teacher_run' (with 'topics' and 'qrels')",
                             source)
        if self.teacher_run is not None and (self.topics is None or self.qrels is None):
            raise InputError("'teacher_run' needs 'topics' and 'qrels' (the training turns and their positives)",
                             source)
        if self.run_fusion not in RUN_FUSIONS:
            raise InputError(f"unknown run_fusion {self.run_fusion!r}; choose one of {', '.join(RUN_FUSIONS)}", source)
        if self.qids not in QID_STYLES:
            raise InputError(f"unknown qids {self.qids!r}; choose one of {', '.join(QID_STYLES)}", source)
        if self.fusion == "merge":
            raise InputError("fusion 'merge' merges teacher runs, before the pools are cut: set run_fusion: merge "
                             "(or 'train build --run-fusion merge'); fusion is mean, max or separate", source)
        if self.fusion not in FUSIONS:
            raise InputError(f"unknown fusion {self.fusion!r}; choose one of {', '.join(FUSIONS)}", source)
        if self.positive_score not in POSITIVE_SCORES:
            raise InputError(f"unknown positive_score {self.positive_score!r}; choose one of "
                             f"{', '.join(POSITIVE_SCORES)}", source)
        if self.in_batch not in IN_BATCH:
            raise InputError(f"unknown in_batch {self.in_batch!r}; choose one of {', '.join(IN_BATCH)}", source)
        if self.negatives < 0:
            raise InputError(f"negatives must be >= 0, got {self.negatives}", source)
        if self.reg_q not in REGULARISERS:
            raise InputError(f"unknown reg_q {self.reg_q!r}; choose one of {', '.join(REGULARISERS)}", source)
        if self.lambda_d:
            raise InputError("lambda_d > 0 has no effect: the document encoder is frozen, so FLOPS on documents "
                             "cannot change anything; set lambda_d: 0 and control queries with reg_q/lambda_q", source)
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}", source)
        if self.query_topk is not None and self.query_topk < 1:
            raise InputError(f"query_topk must be >= 1 or null, got {self.query_topk}", source)
        for pattern in self.trainable or ():
            try:
                re.compile(pattern)
            except re.error as error:
                raise InputError(f"bad 'trainable' pattern {pattern!r}: {error}", source) from None
        if self.batch_size < 1 or self.max_length < 8:
            raise InputError("batch_size must be >= 1 and max_length >= 8", source)
        return self


def parse_value(text: str) -> Any:
    """A CLI override value: JSON, else YAML (when PyYAML is installed, for ``{a: 1}`` or ``[x, y]``), else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        import yaml
        return yaml.safe_load(text)
    except ImportError:
        return text


FLOAT_KEYS = ("learning_rate", "lambda_q", "lambda_d", "epochs", "warmup_ratio", "weight_decay")


def _coerce_floats(data: dict[str, Any], source: str | os.PathLike | None) -> None:
    """PyYAML reads ``2e-5`` (no dot) as a string (YAML 1.1); numbers are converted here, in place."""
    numbers = [(data, key) for key in FLOAT_KEYS if key in data]
    if isinstance(data.get("losses"), dict):
        numbers += [(data["losses"], key) for key in data["losses"]]
    for mapping, key in numbers:
        if isinstance(mapping[key], str):
            try:
                mapping[key] = float(mapping[key])
            except ValueError:
                raise InputError(f"{key} must be a number, got {mapping[key]!r}", source) from None


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in a ``.yaml``/``.yml`` (PyYAML) or ``.json`` config file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found; check --config", path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text (byte {error.start + 1}); give a YAML or JSON config", path) from None
    if "\0" in text:
        raise InputError("a binary file, not a config; give a YAML or JSON config", path)
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise InputError("YAML config needs PyYAML (pip install pyyaml); or write the config as JSON",
                             path) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InputError(f"invalid YAML: {str(error).splitlines()[0]}", path) from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON: {error.msg}", path, error.lineno) from None
    if not isinstance(data, dict):
        raise InputError("a config file must hold a mapping of keys to values", path)
    return data


def load_config(path: str | os.PathLike | None = None, overrides: Iterable[str] = (),
                **values: Any) -> TrainConfig:
    """Config from ``path``, then ``key=value`` ``overrides``, then keyword ``values`` (``None`` ones ignored)."""
    data = read_config_file(path) if path is not None else {}
    for item in overrides:
        key, eq, value = item.partition("=")
        if not eq:
            raise InputError(f"override {item!r} must look like key=value")
        data[key.strip()] = parse_value(value)
    data.update({key: value for key, value in values.items() if value is not None})
    _coerce_floats(data, path)
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise InputError(f"unknown config key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(fields))}", path)
    missing = [name for name in ("corpus", "model") if data.get(name) is None]
    if missing:
        raise InputError(f"config is missing {', '.join(missing)}; set it in the file or with --set key=value", path)
    for key in LIST_KEYS:
        # YAML reads `teachers: manual` as a string; iterating it would give the letters m, a, n, u, a, l.
        if isinstance(data.get(key), str):
            data[key] = [data[key]]
        elif data.get(key) is not None and not (isinstance(data[key], list)
                                                and all(isinstance(item, str) for item in data[key])):
            raise InputError(f"{key} must be a name or a list of names, got {data[key]!r}", path)
    check_types(data, path)
    return TrainConfig(**data).validate(path)


def _matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` fits the type annotation ``hint`` (the few shapes TrainConfig uses)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if hint is float:  # an int is a number too; a bool is not
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        return isinstance(value, list) and all(_matches(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(_matches(k, args[0]) and _matches(v, args[1])
                                               for k, v in value.items())
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", type(None): "null"}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if origin is list:
        return f"a list of {_describe(args[0])}"
    if origin is dict:
        return f"a mapping of {_describe(args[0])} to {_describe(args[1])}"
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def check_types(data: dict[str, Any], source: str | os.PathLike | None = None) -> None:
    """Every key's value has the type its :class:`TrainConfig` field declares (``batch_size: ten`` is an error
    here, not a traceback deep inside the trainer)."""
    hints = typing.get_type_hints(TrainConfig)
    for key, value in data.items():
        if not _matches(value, hints[key]):
            raise InputError(f"{key} must be {_describe(hints[key])}, got {value!r}", source)
