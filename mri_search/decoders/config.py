"""Configuration of a task decoder and of its training: frozen dataclasses, saved in the decoder folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from ..artifact_folder import read_config

FORMAT_VERSION = 1  # newest decoder-folder format this code reads
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "decoder.safetensors"
TASKS = ("segment", "localize")
ARCHS = {"segment": ("unetr", "unet"), "localize": ("heatmap", "unet")}  # per task; unet = MONAI UNet from scratch
ENCODERS = ("trained", "random", "none")  # frozen trained encoder, frozen random one (baseline), none (UNet)


def read_meta(folder: str | os.PathLike, hint: str = "pass the --out of a train command") -> dict:
    """A decoder folder's ``config.json``, checked (``artifact_folder``; torch-free, for checks before a run).

    Raises:
        ArtifactError (a ValueError): the folder or a file is missing, its config corrupt or of a newer format.
    """
    return read_config(folder, "decoder", FORMAT_VERSION, CONFIG_NAME, files=(WEIGHTS_NAME,),
                       required=("decoder", "preprocess"), hint=hint)


@dataclass(frozen=True)
class DecoderCfg:
    """One decoder: which task, which head, on which encoder."""

    task: str  # "segment" (structures, softmax over classes) or "localize" (lesion heatmap, sigmoid)
    arch: str  # segment: "unetr" (UNETR head on the frozen ViT); localize: "heatmap"; both: "unet" (from scratch)
    encoder: str = "trained"  # "trained" (the model's image tower, frozen), "random" (same architecture, random
    #                           weights, frozen: the baseline) or "none" (arch "unet": no encoder)
    feature_size: int = 16  # UNETR feature width (MONAI's default); the heatmap head's width is 2x this
    layers: tuple[int, ...] = ()  # ViT blocks (0-based) feeding UNETR's three skips; () = 1/4, 1/2, 3/4 depth
    heatmap_upsample: int = 8  # heatmap resolution = token grid x this (8: 48^3 voxels of 6 mm for 96^3 at 3 mm)
    unet_channels: tuple[int, ...] = (16, 32, 64, 128, 256)  # MONAI UNet widths per level (strides 2)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.arch not in ARCHS[self.task]:
            raise ValueError(f"{self.task}: --arch must be one of {ARCHS[self.task]}, got {self.arch!r}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if (self.arch == "unet") != (self.encoder == "none"):
            raise ValueError("the UNet baseline has no encoder (encoder 'none'); every other head needs one")
        if self.feature_size < 1:
            raise ValueError(f"feature_size must be positive, got {self.feature_size}")
        if self.layers and len(self.layers) != 3:
            raise ValueError(f"layers names the three ViT blocks feeding UNETR's skips, got {self.layers}")
        if self.heatmap_upsample not in (1, 2, 4, 8, 16):
            raise ValueError(f"heatmap_upsample must be a power of two up to 16, got {self.heatmap_upsample}")

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return json.loads(json.dumps(asdict(self)))


@dataclass(frozen=True)
class FitCfg:
    """Training of a decoder: a fixed number of AdamW steps on random batches of the prepared training pairs."""

    steps: int = 500  # optimizer steps (baselines in one benchmark get the same number)
    batch_size: int = 2  # volumes per step
    lr: float = 1e-3  # peak learning rate (linear warm-up over 5 % of the steps, then cosine to lr / 20)
    weight_decay: float = 1e-5  # AdamW decay on weights (not on biases and norms)
    seed: int = 0  # batch order and decoder initialisation
    log_every: int = 10  # a metrics line every this many steps

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("--steps and --batch-size must be at least 1")
        if self.lr <= 0:
            raise ValueError(f"--lr must be positive, got {self.lr}")
        if self.log_every < 1:
            raise ValueError("--log-every must be at least 1")

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return json.loads(json.dumps(asdict(self)))
