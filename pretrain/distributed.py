"""Process-group set-up for torchrun / DistributedDataParallel, and the few rank helpers the loop needs.

Launch multi-GPU or multi-node runs with torchrun, which sets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and
MASTER_PORT; without them everything runs in one process and the helpers below are no-ops.

    torchrun --nproc_per_node 8 --nnodes 2 --node_rank $NODE --master_addr $HEAD --master_port 29500 train.py ...

Contrastive losses and the global batch: each rank embeds its own micro-batch; `pretrain.losses.ContrastiveLoss`
gathers image and text features from all ranks (open_clip's `gather_features` with `gather_with_grad=True`, i.e.
`torch.distributed.nn.all_gather`, whose backward sums the gradients of every rank's copy back to their owner), so
every rank computes the loss over the global batch and every pair across ranks is a negative. With
`local_loss=False` each rank's loss equals the single-process loss on the global batch, and after DDP averages the
parameter gradients (a factor 1/world_size that cancels the world_size copies summed by the gather's backward) the
update equals the single-process update; tests/pretrain/test_ddp_gloo.py checks both on 2 CPU processes (gloo).
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the job."""

    rank: int  # global rank, 0 .. world_size-1
    local_rank: int  # rank on this node: picks the GPU
    world_size: int  # number of processes
    device: torch.device  # cuda:local_rank when a GPU is present, else cpu

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0


def init_distributed(backend: str | None = None, timeout_min: int = 30) -> DistInfo:
    """Join the process group described by torchrun's environment variables, or describe a single process.

    Args:
        backend: "nccl" or "gloo"; default nccl with GPUs, gloo without.
        timeout_min: collective timeout; long evaluations on rank 0 alone must stay under it.

    Returns:
        This process's DistInfo. Calling it when a group already exists (e.g. set up by a test) just describes it.
    """
    cuda = torch.cuda.is_available()
    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
        local = int(os.environ.get("LOCAL_RANK", rank % max(torch.cuda.device_count(), 1)))
    elif "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK", 0))
        if cuda:
            torch.cuda.set_device(local)  # before the group, so NCCL binds the right GPU
        dist.init_process_group(backend or ("nccl" if cuda else "gloo"),
                                timeout=datetime.timedelta(minutes=timeout_min))
        log.info("joined process group: rank %d of %d (local %d)", rank, world, local)
    else:
        rank, world, local = 0, 1, 0
    device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
    return DistInfo(rank=rank, local_rank=local, world_size=world, device=device)


def is_distributed() -> bool:
    """True inside an initialised process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's global rank (0 outside a process group)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """Number of processes (1 outside a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def barrier() -> None:
    """Wait for every rank (no-op in one process)."""
    if is_distributed():
        dist.barrier()


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """Mean of `value` over ranks (a copy; the input is untouched). Used for logging, not for gradients."""
    value = value.detach().clone()
    if is_distributed():
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= dist.get_world_size()
    return value


def gather_objects(obj):
    """`[obj of rank 0, obj of rank 1, ...]` on every rank (pickled; for small state such as RNG states)."""
    if not is_distributed():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def cleanup() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
