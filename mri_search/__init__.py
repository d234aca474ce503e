"""mri-search: find MRI scans by what they show.

The core library: archive I/O, the synthetic archive generator, preprocessing, encoders, the model artifact,
the vector store, queries and metrics. ``pretrain``, ``indexer`` and ``benchmarks`` build on it; the Typer CLI
(``mri_search.cli``) composes them and nothing imports it.
"""

__version__ = "0.1.0"
