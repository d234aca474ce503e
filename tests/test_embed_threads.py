"""The encoder leaves the cores of the reader processes to them, and the caller's torch threads are restored."""

from __future__ import annotations

import torch

from mri_search.embed import _batches, encoder_threads


def test_encoder_threads_leave_the_workers_their_cores():
    assert encoder_threads(2, cores=2) == 1
    assert encoder_threads(2, cores=16) == 14
    assert encoder_threads(0, cores=4) == 4  # no workers: the encoder reads too, and gets every core
    assert encoder_threads(8, cores=4) == 1


def test_threads_are_set_while_embedding_and_restored_after():
    before = torch.get_num_threads()
    seen: list[int] = []
    list(_batches(_recording(seen), [], None, None, 4, (), threads=1))
    assert seen[-1] == 1 and torch.get_num_threads() == before


def _recording(seen):
    seen.append(torch.get_num_threads())  # runs when the first batch is asked for
    yield from ()
