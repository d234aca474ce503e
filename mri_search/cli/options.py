"""What the command modules of the CLI share: the one way a user mistake (or a busy index) ends a command, the
options that read an archive through a model (``index``, ``embed``), and the options of the two pretraining stages,
so that each means the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ArchiveArg = Annotated[Path, typer.Argument(help="Folder, .zip, .tar or .tar.gz of DICOM and/or NIfTI files "
                                                 "(+ reports).")]
# an archive or a DICOMweb server: kept as text (a Path would fold the URL's "//")
SourceArg = Annotated[str, typer.Argument(
    metavar="ARCHIVE", help="Folder, .zip, .tar or .tar.gz of DICOM and/or NIfTI files (+ reports), or a DICOMweb "
                            "server as dicomweb+http://HOST:8042/dicom-web (credentials from MRI_SEARCH_DICOMWEB_USER "
                            "and MRI_SEARCH_DICOMWEB_PASSWORD, or MRI_SEARCH_DICOMWEB_TOKEN).")]
SinceOpt = Annotated[Optional[str], typer.Option(
    help="DICOMweb: only studies with a StudyDate on or after this day (YYYY-MM-DD).")]
ViewerUrlOpt = Annotated[Optional[str], typer.Option(
    help="Link each hit to its study in the hospital's viewer: a URL with {study_uid} and/or {series_uid}, e.g. "
         "'http://HOST/ohif/viewer?StudyInstanceUIDs={study_uid}'. Needs an index built with --keep-uids.")]
ReportsOpt = Annotated[Optional[Path], typer.Option(
    help="DICOMweb: a report table (CSV, TSV or Parquet, e.g. from the RIS) with a report column and an accession "
         "or StudyInstanceUID column; its reports join the studies they name.")]
ModelOpt = Annotated[Optional[Path], typer.Option(
    help="Model folder (save_model format). Default: the model shipped with mri-search.")]
WorkersOpt = Annotated[int, typer.Option(
    help="Worker processes reading DICOM headers, then reading and preprocessing series (0: this process).")]
KeepPhiOpt = Annotated[bool, typer.Option(
    help="Store raw patient identifiers (names, IDs, dates, UIDs) and raw file paths in the output; off by "
         "default (paths then show identifier values as salted tokens such as PAT-3f9c1a2b).")]
SaltOpt = Annotated[Optional[str], typer.Option(
    "--salt", envvar="MRI_SEARCH_SALT",
    help="Salt of the identifier hashes (or set MRI_SEARCH_SALT). Default: this installation's random salt "
         "($MRI_SEARCH_HOME/salt, created at first use); give every machine of one index the same. An index built "
         "with the old public default is found and used with a warning.")]
ArchiveRootOpt = Annotated[Optional[Path], typer.Option(
    help="Where the archive is now, if it moved since indexing: images are read through the locator, rebased onto "
         "this folder.")]
LocatorOpt = Annotated[Optional[Path], typer.Option(
    help="The index's locator file (the series' real file paths, kept on the indexing machine; default: beside "
         "the embedded index as <db>.locator/, or under MRI_SEARCH_HOME/locators for a server).")]
DeviceOpt = Annotated[str, typer.Option(help="Torch device of the encoder (cpu, cuda, cuda:1, ...).")]
ProgressOpt = Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]

# the pretraining stages (``pretrain vision``, ``pretrain align``)
TrainArchiveArg = Annotated[Path, typer.Argument(help="Folder, .zip or .tar(.gz) of DICOM/NIfTI series (with "
                                                      "reports for align).")]
Out = Annotated[Path, typer.Option("--out", help="Run folder: the model folder, checkpoint.pt, metrics.jsonl, "
                                                 "errors.tsv.")]
Steps = Annotated[int, typer.Option("--steps", help="Optimizer updates in the run.")]
Batch = Annotated[int, typer.Option("--batch-size", help="Series per micro-batch on each process.")]
Lr = Annotated[float, typer.Option("--lr", help="Peak learning rate (after warm-up; cosine to lr/10).")]
Warmup = Annotated[Optional[int], typer.Option("--warmup", help="Warm-up updates (default: 5 % of --steps).")]
Accum = Annotated[int, typer.Option("--accum", help="Micro-batches per update (gradient accumulation).")]
Workers = Annotated[int, typer.Option("--workers", help="Data worker processes.")]
Seed = Annotated[int, typer.Option("--seed", help="Training seed (data order, augmentation, init).")]
SplitSeed = Annotated[int, typer.Option("--split-seed", help="Seed of the patient-level train/val split; keep it "
                                                             "the same for both stages.")]
ValFraction = Annotated[float, typer.Option("--val-fraction", help="Share of patients held out for validation.")]
EvalEvery = Annotated[int, typer.Option("--eval-every", help="Validate every this many updates (and at the end).")]
CkptEvery = Annotated[int, typer.Option("--ckpt-every", help="Checkpoint every this many updates (and at the "
                                                             "end).")]
LogEvery = Annotated[int, typer.Option("--log-every", help="Write a metrics line every this many updates.")]
Precision = Annotated[str, typer.Option("--precision", help="bf16 (autocast on GPU; CPU runs fp32) or fp32.")]
CacheDir = Annotated[Optional[Path], typer.Option("--cache-dir", help="Preprocessing cache (default "
                                                                      "$MRI_SEARCH_CACHE or ~/.cache/mri-search).")]
Resume = Annotated[bool, typer.Option("--resume", help="Continue exactly from OUT/checkpoint.pt.")]
Salt = Annotated[str, typer.Option("--salt", help="Salt of identifier hashes (the site's secret).")]


def fail(message: str) -> None:
    """Print ``error: message`` to stderr and exit with code 2 (a user mistake: no traceback)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def busy(location: str) -> None:
    """Print that the embedded index at ``location`` is open elsewhere and exit with code 3 (try again later)."""
    typer.secho(f"error: the index at {location} is busy (an index run, or another process, has it open); "
                "try again when it finishes", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=3)
