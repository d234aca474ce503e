"""``python -m mri_search.cli`` (and ``torchrun ... -m mri_search.cli``): the ``mri-search`` command."""

from . import app

app()
