"""Which collection a query searches, and which model folder embeds the query into that collection's space.

Collection: ``--collection`` if given; else the ``--model``'s own collection (``mri-<identity>``) if the store has
it; else the only mri-search collection of the store; else the shipped default model's collection; else an error
listing the collections.

Model: the collection records the identity of the model that wrote it (``CollectionMeta.model_id``). ``--model DIR``
must have that identity; without it the folder is looked up in the registry that index runs write
(``mri_search.model.registry``), then the shipped default model is tried. A mismatch or an unknown model is an error
naming both models: vectors of two models are not comparable, and a query must never mix them silently.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..store import CollectionMeta, VectorStore, collection_name
from ..store.layout import check_name

log = logging.getLogger(__name__)


def mri_collections(store: VectorStore) -> list[str]:
    """The collections of ``store`` that carry mri-search metadata."""
    out = []
    for name in store.list_collections():
        try:
            if store.read_meta(name) is not None:
                out.append(name)
        except ValueError:  # not an mri-search collection (or an invalid name): not ours to search
            continue
    return out


def pick_collection(store: VectorStore, collection: str | None, model_id: str | None) -> tuple[str, CollectionMeta]:
    """The collection to search and its metadata (see the module docstring for the order).

    Args:
        store: the open store.
        collection: ``--collection``, or None.
        model_id: identity of ``--model``, or None.

    Raises:
        ValueError: the named collection does not exist or is not an mri-search one; no collection at all; several
            and nothing to choose between them.
    """
    if collection:
        meta = store.read_meta(check_name(collection))
        if meta is None:
            raise ValueError(f"no collection {collection!r} in {store.location}; "
                             f"collections there: {_listing(mri_collections(store))}")
        return collection, meta
    names = mri_collections(store)
    if not names:
        for damaged in store.damaged_collections():
            store.read_meta(damaged)  # raises the damaged index's own message
        raise ValueError(f"no mri-search collection in {store.location}; index an archive first "
                         "(mri-search index ARCHIVE --model DIR), or point --db / --qdrant-url at an index")
    if model_id and collection_name(model_id) in names:
        return collection_name(model_id), store.read_meta(collection_name(model_id))
    if len(names) == 1:
        return names[0], store.read_meta(names[0])
    default = _default_identity()  # hashes the shipped weights: only when needed
    if default and collection_name(default) in names:
        return collection_name(default), store.read_meta(collection_name(default))
    raise ValueError(f"{len(names)} collections in {store.location} ({_listing(names)}); choose one with "
                     "--collection")


def resolve_model(meta: CollectionMeta, collection: str, model: Path | None = None,
                  model_id: str | None = None) -> Path:
    """The folder of the model that wrote ``collection``.

    Args:
        meta: the collection's metadata.
        collection: its name (for messages).
        model: ``--model``, or None to look the model up.
        model_id: ``model_identity(model)`` when the caller computed it already.

    Raises:
        ValueError: ``--model`` is another model than the collection's, or no known folder holds that model.
    """
    from ..model import model_identity
    from ..model.registry import find_model, registry_path

    if model is not None:
        model_id = model_id or model_identity(model)
        if model_id != meta.model_id:
            raise ValueError(f"collection {collection!r} was written by model {meta.model_name} ({meta.model_id}); "
                             f"--model {model} is model {_name_of(model)} ({model_id}). Embeddings of different "
                             "models are not comparable: pass the model the collection was indexed with, or "
                             "search that model's own collection (omit --collection)")
        return Path(model)
    found = find_model(meta.model_id)
    if found is not None:
        return found
    default = _default_dir()
    if default is not None and model_identity(default) == meta.model_id:
        return default
    raise ValueError(f"collection {collection!r} was written by model {meta.model_name} ({meta.model_id}), whose "
                     f"folder is unknown here (not the shipped model, not recorded in {registry_path()}); "
                     "pass --model DIR")


def _default_dir() -> Path | None:
    from ..model.shipped import default_model_dir

    return default_model_dir()


def _default_identity() -> str | None:
    folder = _default_dir()
    if folder is None:
        return None
    from ..model import model_identity

    return model_identity(folder)


def _name_of(folder: Path) -> str:
    from ..model.identity import read_meta

    try:
        return str(read_meta(folder)["model"].get("name", "?"))
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


def _listing(names: list[str]) -> str:
    return ", ".join(names) if names else "none"
