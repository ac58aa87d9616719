"""Batched LLM rewriting of conversation turns, resumable and safe to kill.

Output: JSONL lines ``{"qid": ..., "rewrite": ...}`` (what ``attach_rewrites`` reads). An existing
output is checked before anything is written: only a file in this format is resumed (turns whose qid
is already there are skipped); anything else is refused and left untouched. Each batch is appended,
flushed and fsynced; the one thing a killed run can leave, a torn last line, is dropped on the next
start by replacing the file atomically with its complete lines.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer

from disco_pyserini.atomic import atomic_write
from disco_pyserini.encode.splade import default_device
from disco_pyserini.errors import InputError
from disco_pyserini.hub import model_source
from disco_pyserini.rewrite.prompt import build_prompt
from disco_pyserini.topics import Turn

NOT_OURS = ("is not a rewrite file of ours ({\"qid\", \"rewrite\"} JSON lines); choose another --output, or move "
            "the file away to start over")


def _record_qid(line: bytes) -> str | None:
    """The qid of one output line, or ``None`` if it is not a ``{"qid", "rewrite"}`` record."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(record, dict) and "qid" in record and isinstance(record.get("rewrite"), str):
        return str(record["qid"])
    return None


def finished_qids(path: str | os.PathLike) -> set[str]:
    """Query ids already rewritten in ``path``, after checking the whole file is ours.

    A torn last line (a killed run's: no newline, and a record cut short) is dropped; any other
    line that is not ``{"qid", "rewrite"}`` JSON is an error, and the file is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("--output is a directory; give a .jsonl file name", path)
    if not path.exists():
        return set()
    *complete, tail = path.read_bytes().split(b"\n")
    done = set()
    for number, line in enumerate(complete, 1):
        if line.strip():
            qid = _record_qid(line)
            if qid is None:
                raise InputError(NOT_OURS, path, number)
            done.add(qid)
    if tail.strip():
        qid = _record_qid(tail)
        if qid is not None:
            complete.append(tail)  # a last record without its newline: keep it
            done.add(qid)
        elif not tail.lstrip().startswith(b'{"qid"'):
            raise InputError(NOT_OURS, path, len(complete) + 1)
    if tail:  # rewrite without the torn line, or with the missing newline, before appending
        with atomic_write(path, "wb") as handle:
            handle.writelines(line + b"\n" for line in complete)
    return done


class Rewriter:
    """A causal LM that rewrites turns in batches (left padding, greedy unless ``sample``)."""

    def __init__(self, model_name_or_path: str, device: str | None = None, max_new_tokens: int = 64,
                 sample: bool = False, temperature: float = 0.7, max_answer_chars: int | None = 500):
        self.device = device or default_device()
        model_name_or_path = model_source(model_name_or_path, "LLM")
        self.tokenizer = AutoTokenizer.from_pretrained(model_name_or_path)
        # Left padding: generation continues every prompt from its own last token.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(model_name_or_path, dtype=dtype).to(self.device).eval()
        self.max_new_tokens = max_new_tokens
        self.sample = sample
        self.temperature = temperature
        self.max_answer_chars = max_answer_chars

    def rewrite(self, turns: Sequence[Turn]) -> list[str]:
        """One rewrite per turn (first line of the generation; the utterance if the model gave nothing)."""
        prompts = [build_prompt(turn, self.tokenizer, self.max_answer_chars) for turn in turns]
        # Chat templates already hold the special tokens; plain prompts get the tokenizer's own.
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True,
                                add_special_tokens=not has_template).to(self.device)
        options = dict(do_sample=True, temperature=self.temperature) if self.sample else dict(do_sample=False)
        with torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens,
                                         pad_token_id=self.tokenizer.pad_token_id, **options)
        texts = self.tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        # An empty rewrite would make the file unreadable by attach_rewrites: fall back to the utterance.
        return [(text.strip().splitlines() or [""])[0].strip() or turn.utterance for text, turn in zip(texts, turns)]


def rewrite_turns(rewriter: Rewriter, turns: Iterable[Turn], output: str | os.PathLike, batch_size: int = 8,
                  progress: bool = True, done: set[str] | None = None) -> int:
    """Append rewrites of the turns not yet in ``output`` (``done``: :func:`finished_qids`, read here when not
    given); returns how many were written."""
    done = finished_qids(output) if done is None else done
    todo = [turn for turn in turns if turn.query_id not in done]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(output, "a", encoding="utf-8") as handle, tqdm(total=len(todo), desc="rewriting", unit="turn",
                                                              disable=not progress) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            for turn, text in zip(batch, rewriter.rewrite(batch)):
                handle.write(json.dumps({"qid": turn.query_id, "rewrite": text}, ensure_ascii=False) + "\n")
            # Durable per batch: a killed run keeps every finished turn.
            handle.flush()
            os.fsync(handle.fileno())
            written += len(batch)
            bar.update(len(batch))
    return written
