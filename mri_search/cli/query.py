"""``mri-search query``: text or a series in, ranked series or studies out. Thin over
``mri_search.query.run.run_query``, which the web server calls too."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import ArchiveRootOpt, LocatorOpt, SaltOpt, ViewerUrlOpt
from .options import busy as _busy
from .options import fail as _fail


def _skip_final_gc() -> None:
    """At exit, freeze what is left so the interpreter's final garbage collection skips torch's and transformers'
    objects: about 1 s of a query's cold start (1.1 s -> 0.2 s measured). Nothing else changes: memory is freed by
    the exit, finalizers and atexit handlers still run."""
    import atexit
    import gc

    atexit.register(gc.freeze)


def query(
    text: Annotated[Optional[str], typer.Argument(help="What to find, in words (text-to-image search).")] = None,
    image: Annotated[Optional[Path], typer.Option(
        help="Search with this series instead of text: a DICOM folder, a DICOM file set (folder, zip, tar) or a "
             "NIfTI file, read and preprocessed as at index time.")] = None,
    series: Annotated[Optional[int], typer.Option(
        help="Which series of --image when it holds several (0-based, in `mri-search inspect` order).")] = None,
    target: Annotated[str, typer.Option(
        help="images: series by their image embedding; reports: studies by their report embedding (with --image: "
             "image-to-report retrieval).")] = "images",
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Number of hits.")] = 10,
    group_by: Annotated[str, typer.Option(
        help="none, study or patient: only the best series of each, so that one study does not fill the page "
             "(--target reports always groups, by study unless patient is asked for).")] = "none",
    sequence: Annotated[Optional[list[str]], typer.Option(
        help="Only these sequence families (repeatable, or a comma list): T1, T2, FLAIR, PD, STIR, DWI, ADC, T1C, "
             "SSFP, T2FS, PDFS, other.")] = None,
    plane: Annotated[Optional[list[str]], typer.Option(
        help="Only these planes (repeatable, or a comma list): axial, sagittal, coronal, oblique.")] = None,
    body_part: Annotated[Optional[list[str]], typer.Option(
        help="Only these BodyPartExamined values, as the headers state them (KNEE, Knee and knee alike).")] = None,
    manufacturer: Annotated[Optional[list[str]], typer.Option(
        help="Only scanners of these makers (ge, siemens, philips, or as the headers state it).")] = None,
    contrast: Annotated[Optional[bool], typer.Option(
        "--contrast/--no-contrast", help="Only post-contrast / only pre-contrast series.")] = None,
    fat_sat: Annotated[Optional[bool], typer.Option(
        "--fat-sat/--no-fat-sat", help="Only series with / without fat suppression.")] = None,
    field_strength: Annotated[Optional[float], typer.Option(
        help="Only scanners of this field strength in tesla (1.5, 3; within 0.25 T).")] = None,
    exclude_study: Annotated[Optional[list[str]], typer.Option(
        help="Leave out this study (the issue's `--study UID` exclusion): its StudyInstanceUID, or a study key "
             "from --json output; repeatable.")] = None,
    report_region: Annotated[Optional[list[str]], typer.Option(
        help="Only studies whose report, as parsed (report_labels), is of these body regions: brain, head_neck, "
             "spine, breast, chest, abdomen, pelvis, knee, shoulder.")] = None,
    tumour_site: Annotated[Optional[list[str]], typer.Option(
        help="Only studies whose report names a tumour at these head-and-neck sub-sites (report_labels), e.g. "
             "oropharynx_tonsil, larynx_glottic, parotid.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document instead of a table.")] = False,
    thumbnails: Annotated[Optional[Path], typer.Option(
        help="Write a PNG per hit (mid-slices in three planes, as the model saw them) and contact_sheet.png into "
             "this folder.")] = None,
    lesions: Annotated[Optional[Path], typer.Option(
        help="A lesion-localisation decoder folder (`mri-search localize train --out`): show where in each hit's "
             "series the lesion is (centre in RAS mm, slice, probability) and write its heatmap, lesions JSON and "
             "overlay PNG into --lesions-out.")] = None,
    lesions_out: Annotated[Path, typer.Option(help="Folder for --lesions' files.")] = Path("lesions"),
    archive_root: ArchiveRootOpt = None,
    viewer_url: ViewerUrlOpt = None,
    locator: LocatorOpt = None,
    db: Annotated[Optional[Path], typer.Option(
        help="Embedded index folder (default: $MRI_SEARCH_HOME/qdrant, else ~/.local/share/mri-search/qdrant).")
    ] = None,
    qdrant_url: Annotated[Optional[str], typer.Option(
        "--qdrant-url", help="Search this Qdrant server or cluster instead of the embedded index.")] = None,
    api_key: Annotated[Optional[str], typer.Option(
        "--api-key", envvar="QDRANT_API_KEY", help="Qdrant API key (or set QDRANT_API_KEY).")] = None,
    collection: Annotated[Optional[str], typer.Option(
        help="Collection to search (default: --model's own, else the only one, else the shipped model's).")] = None,
    model: Annotated[Optional[Path], typer.Option(
        help="Model folder; it must be the model that wrote the collection (default: that model, found in the "
             "folders that index runs recorded, or the shipped one).")] = None,
    salt: SaltOpt = None,
    device: Annotated[str, typer.Option(help="Torch device of the encoder (cpu, cuda, ...).")] = "cpu",
    text_encoder: Annotated[str, typer.Option(
        help="How a text query is encoded: auto (the model's report tower as ONNX, without torch; built and "
             "cached on the first text query of a model), onnx, or torch.")] = "auto",
    lock_wait: Annotated[float, typer.Option(
        help="Seconds to wait for an embedded index that another process has open before exiting as busy (3).")
    ] = 1.0,
) -> None:
    """Search a collection with words or an MRI series; print the ranked series (or, for reports, studies).

    Exit codes: 0 results (possibly none), 2 a user mistake, 3 an embedded index busy in another process.
    """
    from ..query import QueryFilters
    from ..query.run import QueryBusy, QueryCfg, run_query

    _skip_final_gc()
    try:
        filters = QueryFilters(sequences=tuple(sequence or ()), planes=tuple(plane or ()),
                               body_parts=tuple(body_part or ()), manufacturers=tuple(manufacturer or ()),
                               contrast=contrast, fat_suppressed=fat_sat, field_strength=field_strength,
                               exclude_studies=tuple(exclude_study or ()),
                               report_regions=tuple(report_region or ()), tumour_sites=tuple(tumour_site or ()))
        cfg = QueryCfg(text=text, image=image, series=series, target=target, top_k=top_k, group_by=group_by,
                       filters=filters, thumbnails=thumbnails, lesions=lesions, lesions_out=lesions_out, db=db,
                       qdrant_url=qdrant_url, api_key=api_key, collection=collection, model=model, salt=salt,
                       device=device, text_encoder=text_encoder, lock_wait_s=lock_wait, locator=locator,
                       archive_root=archive_root, viewer_url=viewer_url)
        result = run_query(cfg)
    except QueryBusy as e:
        _busy(e.location)
    except (ValueError, OSError) as e:
        _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    typer.echo(result.to_json() if json_out else "\n".join(result.lines()))
    logging.getLogger(__name__).debug("query timings (ms): %s", result.timings_ms)
