"""Model configuration: frozen dataclasses built with ``Cfg(**d)`` (an unknown key fails), and named JSON presets.

Presets live in ``presets/<name>.json`` beside this file (open_clip's ``model_configs``): a model is chosen by
name, never by an import path read from a file. This module imports no torch, so the CLI can list presets
instantly.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from importlib import resources

from ..configs import build_config

POOLS_VISION = ("cls", "mean")
POOLS_TEXT = ("mean",)
TUNES = ("frozen", "last", "all")
ADAPTERS = ("linear", "mlp")
POS_EMBEDS = ("learnable", "sincos")
STEMS = ("patch", "conv")
TEXT_BACKBONES = ("all-MiniLM-L6-v2",)  # resolved offline by mri_search.model.text.backbone_folder


@dataclass(frozen=True)
class VisionCfg:
    """The 3D ViT image tower (MONAI ``ViT``, adapted in ``vision.py``)."""

    img_size: int = 96  # cubic input edge, voxels; must equal PreprocessConfig.size on every axis
    patch_size: int = 16  # cubic patch edge, voxels; img_size must be a multiple (96 / 16 = a 6^3 token grid)
    hidden_size: int = 384  # token width
    mlp_dim: int = 1536  # feed-forward width inside each transformer block (4 x hidden_size by convention)
    num_layers: int = 6  # transformer blocks
    num_heads: int = 6  # attention heads; hidden_size must be divisible by it
    pool: str = "cls"  # volume feature: "cls" (MONAI's class token) or "mean" over the patch tokens
    pos_embed: str = "learnable"  # MONAI position embedding: "learnable" or fixed "sincos"
    dropout: float = 0.0  # dropout inside the transformer blocks (MONAI dropout_rate)
    stem: str = "patch"  # volume -> tokens: "patch" (MONAI's one strided conv, a patch_size^3 kernel) or "conv"
    #   (strided 3^3 convolutions halving the grid log2(patch_size) times: features of 2-3 voxels up to a token's
    #   size enter each token, Xiao et al. 2021 "Early convolutions help transformers see better")
    stem_width: int = 32  # channels of the conv stem's first layer (doubled at each halving, capped at hidden_size)

    def __post_init__(self) -> None:
        for name in ("img_size", "patch_size", "hidden_size", "mlp_dim", "num_layers", "num_heads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"vision.{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.img_size % self.patch_size:
            raise ValueError(f"vision.img_size ({self.img_size}) must be a multiple of patch_size "
                             f"({self.patch_size})")
        if self.hidden_size % self.num_heads:
            raise ValueError(f"vision.hidden_size ({self.hidden_size}) must be divisible by num_heads "
                             f"({self.num_heads})")
        if self.pool not in POOLS_VISION:
            raise ValueError(f"vision.pool must be one of {POOLS_VISION}, got {self.pool!r}")
        if self.pos_embed not in POS_EMBEDS:
            raise ValueError(f"vision.pos_embed must be one of {POS_EMBEDS}, got {self.pos_embed!r}")
        if self.stem not in STEMS:
            raise ValueError(f"vision.stem must be one of {STEMS}, got {self.stem!r}")
        if self.stem == "conv" and (self.patch_size < 2 or self.patch_size & (self.patch_size - 1)):
            raise ValueError(f"vision.stem 'conv' halves the grid to the patch size: patch_size must be a power of "
                             f"2, got {self.patch_size}")
        if not isinstance(self.stem_width, int) or self.stem_width < 1:
            raise ValueError(f"vision.stem_width must be a positive integer, got {self.stem_width!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"vision.dropout must be in [0, 1), got {self.dropout}")

    @property
    def grid(self) -> int:
        """Patch tokens per axis (the token grid is ``grid^3``)."""
        return self.img_size // self.patch_size


@dataclass(frozen=True)
class TextCfg:
    """The report tower: a pretrained sentence encoder from a local package, masked mean pooling, projection."""

    backbone: str = "all-MiniLM-L6-v2"  # a name from TEXT_BACKBONES (installed with the package, never downloaded)
    max_tokens: int = 256  # truncation length of a report, word pieces including [CLS]/[SEP] (MiniLM trained at 256)
    tune: str = "last"  # backbone training: "frozen" (none), "last" (the last tune_last_n layers), "all"
    tune_last_n: int = 2  # layers trained when tune == "last"
    pool: str = "mean"  # token pooling: mean over non-padding tokens (how all-MiniLM-L6-v2 was trained)
    adapter: str = "linear"  # pooled features -> shared space: "linear" projection, or "mlp" (2 layers, GELU; a
    #   trainable adapter on a frozen backbone, as LiT's locked-tower ablations suggest)
    adapter_hidden: int = 512  # hidden width of the "mlp" adapter

    def __post_init__(self) -> None:
        if self.adapter not in ADAPTERS:
            raise ValueError(f"text.adapter must be one of {ADAPTERS}, got {self.adapter!r}")
        if not isinstance(self.adapter_hidden, int) or self.adapter_hidden < 1:
            raise ValueError(f"text.adapter_hidden must be a positive integer, got {self.adapter_hidden!r}")
        if self.backbone not in TEXT_BACKBONES:
            raise ValueError(f"text.backbone must be one of {TEXT_BACKBONES}, got {self.backbone!r}")
        if not isinstance(self.max_tokens, int) or not 8 <= self.max_tokens <= 512:
            raise ValueError(f"text.max_tokens must be an integer in [8, 512], got {self.max_tokens!r}")
        if self.tune not in TUNES:
            raise ValueError(f"text.tune must be one of {TUNES}, got {self.tune!r}")
        if not isinstance(self.tune_last_n, int) or self.tune_last_n < 1:
            raise ValueError(f"text.tune_last_n must be a positive integer, got {self.tune_last_n!r}")
        if self.pool not in POOLS_TEXT:
            raise ValueError(f"text.pool must be one of {POOLS_TEXT}, got {self.pool!r}")


@dataclass(frozen=True)
class ModelCfg:
    """The whole two-tower model: both towers project into one shared, L2-normalised ``embed_dim`` space."""

    name: str  # preset name it came from (or a user's own label); recorded in the artifact
    vision: VisionCfg  # image tower
    text: TextCfg  # report tower
    embed_dim: int = 256  # shared embedding size (what the vector store indexes)
    init_logit_scale: float = math.log(1 / 0.07)  # CLIP temperature, stored as log(1/T); forward returns exp()
    init_logit_bias: float = -10.0  # SigLIP bias start value (unused by ClipLoss)

    def __post_init__(self) -> None:
        if not isinstance(self.embed_dim, int) or self.embed_dim < 1:
            raise ValueError(f"embed_dim must be a positive integer, got {self.embed_dim!r}")
        if not isinstance(self.vision, VisionCfg) or not isinstance(self.text, TextCfg):
            raise ValueError("ModelCfg.vision / .text must be VisionCfg / TextCfg; build from JSON with from_dict")

    def to_dict(self) -> dict:
        """JSON-ready nested dict."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, d: dict) -> "ModelCfg":
        """Inverse of ``to_dict``; an unknown key at any level raises ValueError naming it."""
        if not isinstance(d, dict):
            raise ValueError(f"model config: expected a JSON object, got {type(d).__name__}")
        d = dict(d)
        for key, sub in (("vision", VisionCfg), ("text", TextCfg)):
            if key not in d:
                raise ValueError(f"model config: missing key {key!r}")
            d[key] = build_config(sub, d[key], f"model config {key!r}")
        return build_config(cls, d, "model config")


def list_presets() -> list[str]:
    """Names of the shipped presets, sorted."""
    folder = resources.files(__package__) / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def get_preset(name: str) -> ModelCfg:
    """The preset ``name`` as a ``ModelCfg``.

    Raises:
        ValueError: no preset has that name (the known names are listed).
    """
    names = list_presets()
    if name not in names:
        raise ValueError(f"unknown model preset {name!r}; known presets: {names}")
    d = json.loads((resources.files(__package__) / "presets" / f"{name}.json").read_text())
    d.setdefault("name", name)
    if d["name"] != name:
        raise ValueError(f"preset file {name}.json names itself {d['name']!r}")
    return ModelCfg.from_dict(d)
