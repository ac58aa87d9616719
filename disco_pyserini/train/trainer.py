"""Student training on the Hugging Face ``Trainer``: frozen document encoder, trainable query encoder.

The model the ``Trainer`` optimises (and checkpoints, in HF format) is the query encoder alone,
so every checkpoint loads with ``DiscoQueryEncoder`` / ``python -m disco_pyserini.search --encoder``.
The document encoder is frozen (as in DiSCo) and held outside the model: it is neither saved nor
optimised, and since its vectors cannot change the most recent ones are cached. Documents FLOPS
therefore has no effect; sparsity is steered by ``reg_q``/``lambda_q`` on queries and by
``query_topk`` pruning. Each epoch draws fresh negatives: :class:`EpochSampling` tells the dataset
which epoch starts.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
import transformers
from transformers import AutoModelForMaskedLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.pooling import prune_topk
from disco_pyserini.encode.splade import SpladeEncoder
from disco_pyserini.encode.trained import TRAINING_CONFIG
from disco_pyserini.errors import InputError
from disco_pyserini.hub import model_source
from disco_pyserini.train.build import load_texts, teacher_run_distillation
from disco_pyserini.train.config import TrainConfig
from disco_pyserini.train.data import DistillCollator, DistillDataset
from disco_pyserini.train.documents import FrozenDocumentEncoder
from disco_pyserini.train.losses import LOSSES, anti_zero, contrastive
from disco_pyserini.train.model import REGULARISERS, nonzero_terms, splade_pool, warmup_lambda
from disco_pyserini.train.teacher_runs import named_run, read_scores, read_training_qrels

logger = logging.getLogger(__name__)

COLLAPSED = 1.0
"""Below this many non-zero query terms on average, the student has (nearly) collapsed to all-zero vectors."""
class EpochSampling(TrainerCallback):
    """Tells the dataset which epoch starts, so that each epoch draws other negatives (seeded, reproducible)."""

    def __init__(self, dataset: DistillDataset):
        self.dataset = dataset

    def on_epoch_begin(self, args: TrainingArguments, state: Any, control: Any, **kwargs: Any) -> None:
        # state.epoch is a whole number here (a resumed run: the epoch plus the fraction already done).
        self.dataset.set_epoch(int((state.epoch or 0) + 1e-6))


class DiscoTrainer(Trainer):
    """``Trainer`` whose loss is the configured mix of distillation, contrastive, anti-zero and regulariser terms."""

    def __init__(self, *args: Any, config: TrainConfig, documents: FrozenDocumentEncoder, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.config = config
        self.documents = documents
        self._sums: dict[str, float] = defaultdict(float)
        self._count = 0
        self._warned = False

    def loss_terms(self, model: torch.nn.Module, inputs: Mapping[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss and each (unweighted) term, plus sparsity statistics, for one batch."""
        queries = splade_pool(model, inputs["input_ids"], inputs["attention_mask"])
        queries = prune_topk(queries, self.config.query_topk)
        docs = self.documents.vectors(inputs["doc_ids"], queries.device)
        student = torch.einsum("bv,bnv->bn", queries, docs)
        teacher = inputs["teacher_scores"]
        weights = self.config.losses
        terms: dict[str, torch.Tensor] = {}
        for name, loss in LOSSES.items():
            if weights.get(name, 0) > 0:
                # Fusion "separate": one row per teacher, each distilled and the losses averaged.
                terms[name] = torch.stack([loss(student, teacher[:, t]) for t in range(teacher.shape[1])]).mean()
        if weights.get("contrastive", 0) > 0:
            terms["contrastive"] = contrastive(queries, docs, self.config.in_batch)
        if weights.get("anti_zero", 0) > 0:
            terms["anti_zero"] = anti_zero(queries, docs)
        total = sum(weights[name] * value for name, value in terms.items())
        lam = warmup_lambda(self.config.lambda_q, self.state.global_step, self.config.reg_warmup_steps)
        if self.config.lambda_q > 0:
            terms[f"{self.config.reg_q}_q"] = REGULARISERS[self.config.reg_q](queries)
            total = total + lam * terms[f"{self.config.reg_q}_q"]
        stats = {f"loss_{name}": float(value.detach()) for name, value in terms.items()}
        stats.update(lambda_q=lam, q_nonzero=nonzero_terms(queries.detach()),
                     d_nonzero=nonzero_terms(docs.flatten(0, 1)))
        return total, stats

    def compute_loss(self, model: torch.nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> torch.Tensor | tuple[torch.Tensor, Any]:
        total, stats = self.loss_terms(model, inputs)
        if model.training:
            for key, value in stats.items():
                self._sums[key] += value
            self._count += 1
        return (total, {}) if return_outputs else total

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Add the means of each loss term and of the non-zero term counts since the last log."""
        if self._count and "loss" in logs:
            logs.update({key: round(value / self._count, 6) for key, value in self._sums.items()})
            self._sums.clear()
            self._count = 0
            if logs["q_nonzero"] < COLLAPSED and not self._warned:
                # ReLU zeros pass no gradient back: a collapsed student rarely recovers, so say so early.
                self._warned = True
                logger.warning("query vectors are collapsing to zero (%.2f non-zero terms on average at step %d): "
                               "lower learning_rate, or check that the teacher scores and the student's initial "
                               "scores are on comparable scales", logs["q_nonzero"], self.state.global_step)
        super().log(logs, start_time)


def training_arguments(config: TrainConfig) -> TrainingArguments:
    """``TrainingArguments`` from the config (``training_args`` entries win)."""
    cuda = torch.cuda.is_available()
    precision = ("fp16" if cuda else "fp32") if config.precision == "auto" else config.precision
    if precision == "fp16" and not cuda:
        raise InputError("precision fp16 needs a CUDA device; use bf16 or fp32 on CPU")
    # transformers 5 reads a float warmup_steps < 1 as a ratio and dropped warmup_ratio; 4.x still has it.
    warmup = "warmup_steps" if int(transformers.__version__.split(".")[0]) >= 5 else "warmup_ratio"
    values: dict[str, Any] = dict(
        output_dir=config.output_dir, per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate, num_train_epochs=config.epochs, max_steps=config.max_steps,
        weight_decay=config.weight_decay, seed=config.seed, **{warmup: config.warmup_ratio},
        # Without use_cpu, torchrun on a CPU-only machine starts N independent trainings, not one DDP run.
        use_cpu=not cuda,
        fp16=precision == "fp16", bf16=precision == "bf16", logging_steps=config.logging_steps,
        save_strategy="steps" if config.save_steps else "no", save_steps=config.save_steps or 500,
        remove_unused_columns=False, report_to="none", dataloader_pin_memory=cuda,
        dataloader_drop_last=True,  # as the released configuration
    )
    values.update(config.training_args)
    try:
        args = TrainingArguments(**values)
    except (TypeError, ValueError) as error:
        raise InputError(f"invalid training arguments: {error}") from None
    if args.dataloader_persistent_workers and args.dataloader_num_workers:
        raise InputError("dataloader_persistent_workers would keep each worker's dataset at the first epoch (the "
                         "same negatives every epoch); drop it from training_args")
    return args


def freeze_except(model: torch.nn.Module, patterns: Sequence[str] | None) -> None:
    """Freeze every parameter whose name matches none of the regexes ``patterns`` (``None``: train all)."""
    if patterns is None:
        return
    trained = 0
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(any(re.search(pattern, name) for pattern in patterns))
        trained += parameter.requires_grad
    if not trained:
        raise InputError(f"'trainable' patterns {list(patterns)} match no parameter of the query encoder")


def load_dataset(config: TrainConfig) -> DistillDataset:
    """The training turns of ``config``: its distillation file, or its teacher run(s) built in memory."""
    source: Any = config.distillation
    if config.teacher_run is not None:
        from disco_pyserini.encode.conversations import load_conversations

        # CAsT 2020's canonical responses: from responses_from, else from the training corpus
        loaded = load_conversations(config.topics, config.topics_format, responses_from=config.responses_from,
                                    history_cut=config.history_cut, history_responses=config.history_responses,
                                    collection=config.corpus)
        turns = loaded.cut_turns(config.history_responses)
        head, records, stats = teacher_run_distillation(turns, read_training_qrels(config.qrels),
                                                        [named_run(run) for run in config.teacher_run],
                                                        config.run_fusion, qids=config.qids,
                                                        rows_expected=loaded.topics_format == "topiocqa")
        head.update(history_cut=loaded.history_cut, history_responses=config.history_responses)
        for note in stats.notes:  # how the run's query ids were read: worth seeing, a wrong mapping trains on noise
            logger.warning(note)
        source = (head, records)
    norm = read_scores(config.norm) if config.norm is not None else None
    return DistillDataset(source, config.teachers, config.fusion, config.positive_score, config.negatives,
                          config.seed, norm)


def build_trainer(config: TrainConfig) -> DiscoTrainer:
    """A ready :class:`DiscoTrainer` for ``config`` (data loaded, encoders loaded, nothing trained yet)."""
    dataset = load_dataset(config)
    initial = model_source(config.model)  # a local folder, a hub id, or a short name such as splade-tiny
    tokenizer = AutoTokenizer.from_pretrained(initial)
    model = AutoModelForMaskedLM.from_pretrained(initial)
    freeze_except(model, config.trainable)
    args = training_arguments(config)
    # fp32 whatever the training precision: `train build` computes teacher scores from fp32 vectors by default.
    doc_encoder = SpladeEncoder(config.doc_encoder or config.model, device=str(args.device), dtype="fp32",
                                max_length=config.max_length)
    documents = FrozenDocumentEncoder(doc_encoder, load_texts(config.corpus, dataset.doc_ids()))
    if model.get_output_embeddings().weight.shape[0] != documents.vocab_size:
        raise InputError("query and document encoders have different vocabularies; use checkpoints of one family")
    return DiscoTrainer(model=model, args=args, data_collator=DistillCollator(
        tokenizer, config.max_length), train_dataset=dataset, processing_class=tokenizer, config=config,
        documents=documents, callbacks=[EpochSampling(dataset)])


def train(config: TrainConfig) -> Path:
    """Train a DiSCo student; the final model and tokenizer go to ``config.output_dir`` (HF format)."""
    trainer = build_trainer(config)
    trainer.train()
    trainer.save_model(config.output_dir)  # on the main process only, under torchrun/accelerate
    if trainer.is_world_process_zero():
        # How the student's inputs were read (history cut): DiscoQueryEncoder reads conversations the same way.
        # A distillation file that records none was formulated without a cut.
        header = trainer.train_dataset.header
        recorded = {"history_cut": header.get("history_cut", "none"),
                    "history_responses": header.get("history_responses", "all")}
        with atomic_write(Path(config.output_dir) / TRAINING_CONFIG) as handle:
            json.dump({**dataclasses.asdict(config), **recorded}, handle, indent=2)
    return Path(config.output_dir)
