"""SPLADE on ONNX Runtime: the model plus max pooling exported once, then run on the CPU.

On a CPU, ONNX Runtime ran the same fp32 forward 1.3-2.4x faster than PyTorch for one 256-token
conversation of a BERT-base SPLADE (``bench/bench_query.py``), which is what query latency is made
of. The exported graph takes ``input_ids`` and ``attention_mask`` (dynamic batch and length) and
returns the pooled ``[batch, vocab]`` weights ``max_i log(1 + relu(logit_ij))``, so the rest of the
pipeline (sparse extraction, quantisation) is shared with the PyTorch path.

Exports are cached under ``$DISCO_ONNX_CACHE`` (default ``~/.cache/disco_pyserini/onnx``), keyed
by the checkpoint (its resolved path and the size and mtime of its files, or its hub name), and
written to a temporary file then renamed, so a killed export never leaves a broken model behind.
Exporting needs the ``onnx`` package (``pip install "disco-pyserini[onnx]"``); running needs only
``onnxruntime``, which Pyserini already installs.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from disco_pyserini.errors import InputError

OPSET = 17


def cache_dir() -> Path:
    """Where exported models are kept (``$DISCO_ONNX_CACHE`` or ``~/.cache/disco_pyserini/onnx``), checked usable."""
    folder = Path(os.environ.get("DISCO_ONNX_CACHE") or Path.home() / ".cache" / "disco_pyserini" / "onnx")
    where = "DISCO_ONNX_CACHE" if os.environ.get("DISCO_ONNX_CACHE") else "the ONNX cache folder"
    usable = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if usable is not None and not usable.is_dir():
        raise InputError(f"{where} cannot be a folder: {usable} is a file; set DISCO_ONNX_CACHE to a folder", folder)
    if usable is not None and not os.access(usable, os.W_OK | os.X_OK) and not folder.is_dir():
        raise InputError(f"{where} cannot be created (permission denied); set DISCO_ONNX_CACHE to a writable "
                         "folder", folder)
    return folder


def cache_key(model_name_or_path: str) -> str:
    """A file-name-safe key that changes when a local checkpoint's files change."""
    path = Path(model_name_or_path)
    if path.is_dir():
        parts = [str(path.resolve())]
        parts += [f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in sorted(path.iterdir()) if f.is_file()]
    else:
        parts = [model_name_or_path]
    digest = hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]
    return f"{path.name or 'model'}-{digest}"


class _PooledSplade(torch.nn.Module):
    """The MLM plus SPLADE max pooling, as one traceable module."""

    def __init__(self, mlm: torch.nn.Module):
        super().__init__()
        self.mlm = mlm

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        logits = self.mlm(input_ids=input_ids, attention_mask=attention_mask).logits
        weights = torch.log1p(torch.relu(logits)) * attention_mask.unsqueeze(-1).to(logits.dtype)
        return weights.amax(dim=1)


def export_onnx(model_name_or_path: str, output: str | os.PathLike) -> Path:
    """Export the pooled SPLADE forward of a checkpoint to ``output`` (atomically); returns the path."""
    from transformers import AutoModelForMaskedLM

    try:
        import onnx  # noqa: F401  (torch's exporter needs it; fail here with advice, not deep inside torch)
    except ImportError:
        raise InputError('the ONNX backend needs the onnx package to export the model: '
                         'pip install "disco-pyserini[onnx]" (or use --backend torch)') from None
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Eager attention traces to plain matmuls/softmax that every ONNX Runtime build supports.
    model = AutoModelForMaskedLM.from_pretrained(model_name_or_path, attn_implementation="eager").eval()
    example = torch.ones(2, 16, dtype=torch.long)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    axes = {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
            "weights": {0: "batch"}}
    try:
        with warnings.catch_warnings():
            # The tracer warns about transformers' mask helpers and index ops; the parity tests cover them.
            warnings.simplefilter("ignore")
            torch.onnx.export(_PooledSplade(model), (example, example), str(tmp), opset_version=OPSET, dynamo=False,
                              input_names=["input_ids", "attention_mask"], output_names=["weights"],
                              dynamic_axes=axes)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return output


class OnnxSplade:
    """Pooled SPLADE weights from an ONNX Runtime session (CPU), exporting the checkpoint on first use."""

    def __init__(self, model_name_or_path: str, onnx_path: str | os.PathLike | None = None, threads: int = 0):
        import onnxruntime

        path = Path(onnx_path) if onnx_path else cache_dir() / f"{cache_key(model_name_or_path)}.onnx"
        if not path.is_file():
            export_onnx(model_name_or_path, path)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default, one per physical core
        self.path = path
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # Only the batch axis is dynamic, so the graph states the MLM head's width.
        self.width: int = self.session.get_outputs()[0].shape[1]

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """``[batch, vocab]`` float32 weights for one tokenised batch."""
        feeds = {"input_ids": input_ids.numpy().astype(np.int64),
                 "attention_mask": attention_mask.numpy().astype(np.int64)}
        return torch.from_numpy(self.session.run(None, feeds)[0])
