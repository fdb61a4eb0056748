"""Ingest files and folders into the warehouse: detect the format, read, write in one transaction.

A file whose checksum is already in the warehouse is left alone (ingesting twice changes
nothing). A new version of a table slice already present (same publisher, table, periods, groups
and levels) replaces the old one in the same transaction, and the report says so.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from wijkradar.errors import InputError, UnknownFormatError, WijkradarError
from wijkradar.sources import crosswalk, geo, kwb, names, odata, statline
from wijkradar.sources.model import Dataset
from wijkradar.sources.tabular import CSV_SUFFIXES, EXCEL_SUFFIXES, Table, load_table
from wijkradar.warehouse import Warehouse
from wijkradar.warehouse.observations import as_arrow

Action = Literal["ingested", "unchanged", "replaced", "failed"]
SUPPORTED = (
    "StatLine xlsx/csv, Kerncijfers wijken en buurten (csv/xlsx/dbf), OData JSON, regionamen "
    "(Identifier,Title), omzettabellen (year_from, year_to, wijk_from, wijk_to, weight), GeoJSON, "
    "GeoPackage, shapefile"
)
DATA_SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES | geo.GEO_SUFFIXES | geo.ATTRIBUTE_SUFFIXES


@dataclass
class FileReport:
    """What happened to one file or download folder."""

    path: str
    action: Action
    table_id: str = ""
    title: str = ""
    periods: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    observations: int = 0
    regions: int = 0
    geometries: int = 0
    measures: int = 0
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and CSV output."""
        return dict(self.__dict__)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the files (and OData download folders) wijkradar can read.

    Files named explicitly are always returned, so an unsupported one gets a clear error; inside
    folders, files of other kinds (README, SOURCES.md ...) are passed over.
    """
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(str(path), "bestand of map bestaat niet", fix="controleer het pad")
        if path.is_dir():
            found.extend(_walk(path))
        else:
            found.append(path)
    return found


def _walk(folder: Path) -> list[Path]:
    if odata.is_bundle(folder):
        return [folder]
    out: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            out.extend(_walk(child))
        elif child.suffix.lower() in DATA_SUFFIXES and not _part_of_shapefile(child):
            out.append(child)
    return out


def _part_of_shapefile(path: Path) -> bool:
    """Tell whether a file is a .dbf beside its .shp (read with the shapefile, not on its own)."""
    return path.suffix.lower() == ".dbf" and any(path.with_suffix(s).exists() for s in (".shp", ".SHP"))


def checksum(path: Path) -> str:
    """SHA-256 of a file, or of all files of a download folder in name order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode())
        with file.open("rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def read_any(path: Path, *, period: str | None = None, layer: str | None = None) -> Dataset:
    """Detect the format of a file or download folder and read it."""
    if path.is_dir():
        return odata.read_bundle(path)
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".gpkg", ".shp", ".zip"):
        return geo.read_file(path, layer=layer)
    if suffix in geo.ATTRIBUTE_SUFFIXES:
        return kwb.from_table(path, Table(geo.read_attributes(path), first_row=1), period=period)
    if suffix == ".json":
        if odata.is_page(path):
            return odata.read_page(path)
        if _is_geojson(path):
            return geo.read_file(path)
    if suffix in EXCEL_SUFFIXES | CSV_SUFFIXES:
        table = load_table(path)
        columns = list(table.frame.columns)
        if statline.looks_like(columns):
            return statline.from_table(path, table)
        if names.looks_like(columns):
            return names.from_table(path, table)
        if crosswalk.looks_like(columns):
            return crosswalk.from_table(path, table)
        if kwb.layout_of(columns):
            return kwb.from_table(path, table, period=period)
        lacking = statline.missing_dimension(columns)
        if lacking:
            raise InputError(
                str(path),
                f"kolom '{lacking}' niet gevonden; gevonden: " + ", ".join(columns[:10]),
                column=lacking,
                fix=f"hernoem de kolom terug naar '{lacking}' of exporteer de tabel opnieuw uit StatLine",
            )
        raise UnknownFormatError(
            str(path),
            "onbekende tabelindeling; eerste kolommen: " + ", ".join(columns[:8]),
            fix=f"wijkradar leest {SUPPORTED}; exporteer de tabel met codekolommen "
            "(WijkenEnBuurten, gwb_code_10, GM_CODE of buurt_code)",
        )
    raise UnknownFormatError(
        str(path),
        f"onbekend bestandstype '{path.suffix or '(geen extensie)'}'",
        fix=f"wijkradar leest {SUPPORTED}",
    )


def _is_geojson(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(4096)
    return b'"FeatureCollection"' in head or b'"Feature"' in head


def read_file(path: Path, *, period: str | None = None, layer: str | None = None) -> Dataset:
    """Read a file like :func:`read_any`; a reader tripping over a damaged file is an InputError.

    The message names the kind of failure only, never its text, which may quote the file.
    """
    try:
        return read_any(path, period=period, layer=layer)
    except WijkradarError:
        raise
    except Exception as exc:  # any reader's failure on a damaged file
        raise InputError(
            str(path),
            f"het bestand kon niet gelezen worden ({type(exc).__name__})",
            fix="controleer of het een onbeschadigde tabel is in een vorm die wijkradar leest "
            "(zie 'wijkradar ingest --help')",
        ) from None


def ingest_path(wh: Warehouse, path: Path, *, period: str | None = None) -> FileReport:
    """Ingest one file or download folder in one transaction and say what happened."""
    digest = checksum(path)
    known = wh.sources.by_checksum(digest)
    if known is not None:
        return _unchanged(path, known)
    return store(wh, str(path), digest, read_checked(path, period=period))


def _unchanged(path: Path, known: dict[str, Any]) -> FileReport:
    return FileReport(
        path=str(path),
        action="unchanged",
        table_id=str(known["table_id"]),
        title=str(known["title"]),
        periods=str(known["period"]).split(","),
        message=f"al ingelezen op {known['ingested_at']:%Y-%m-%d %H:%M}; niets gewijzigd",
    )


@dataclass(frozen=True)
class Checked:
    """A dataset that passed :func:`plausible`, ready to be written.

    With the note about duplicate rows dropped, and the observations already made into Arrow.
    """

    dataset: Dataset
    note: str
    rows: pa.Table

    @classmethod
    def of(cls, dataset: Dataset, label: str) -> Checked:
        """Check a dataset (see :func:`plausible`) and prepare its observations for writing."""
        kept, note = plausible(dataset, label)
        return cls(kept, note, as_arrow(kept.observations))


def read_checked(path: Path, *, period: str | None = None, layer: str | None = None) -> Checked:
    """Read a file and check it: the part of ingesting that needs no warehouse (run on threads)."""
    return Checked.of(read_file(path, period=period, layer=layer), str(path))


def store(wh: Warehouse, label: str, digest: str, dataset: Dataset | Checked) -> FileReport:
    """Write a dataset in one transaction, replacing an earlier version of the same table slice.

    ``label`` names where it came from in the report; ``digest`` makes storing it again a no-op.
    A dataset not yet :class:`Checked` is checked first.
    """
    checked = dataset if isinstance(dataset, Checked) else Checked.of(dataset, label)
    dataset, duplicates = checked.dataset, checked.note
    meta = dataset.meta
    in_obs = dataset.observations["region_code"]
    found = in_obs.cat.categories if isinstance(in_obs.dtype, pd.CategoricalDtype) else in_obs.unique()
    every = pd.concat([dataset.regions["code"].astype(str), pd.Series(found, dtype=object).astype(str)])
    codes = sorted(every.unique().tolist())
    with wh.transaction():
        previous = wh.sources.replace_slices(dataset.dataset_key, codes)
        source_id = wh.sources.insert(
            {
                "dataset_key": dataset.dataset_key,
                "publisher": meta.publisher,
                "table_id": meta.table_id,
                "title": meta.title,
                "period": ",".join(dataset.periods),
                "population_groups": ",".join(dataset.groups),
                "levels": ",".join(sorted(dataset.regions["level"].unique().tolist())),
                "boundary_year": meta.boundary_year,
                "licence": meta.licence,
                "location": meta.location,
                "format": meta.format,
                "checksum": digest,
                "n_observations": len(dataset.observations),
                "n_regions": len(dataset.regions),
                "note": meta.note,
            }
        )
        if len(dataset.regions):
            wh.regions.upsert(dataset.regions, meta.boundary_year)
        if dataset.context_regions is not None and len(dataset.context_regions):
            wh.regions.upsert(dataset.context_regions, meta.boundary_year)
        if len(dataset.measures):
            wh.observations.upsert_measures(dataset.measures, meta.publisher, meta.table_id)
        if len(dataset.observations):
            wh.observations.insert(checked.rows, source_id, meta.boundary_year)
        if dataset.geometries is not None:
            wh.boundaries.insert(dataset.geometries, source_id, meta.boundary_year)
        if dataset.crosswalk is not None:
            wh.crosswalks.insert(dataset.crosswalk, source_id)
    messages = [_replacement_message(old) for old in previous]
    replaced = any(old["replaced"] for old in previous) or any(not old["kept"] for old in previous)
    return FileReport(
        path=label,
        action="replaced" if replaced else "ingested",
        table_id=meta.table_id,
        title=meta.title,
        periods=dataset.periods,
        groups=dataset.groups,
        observations=len(dataset.observations),
        regions=len(dataset.regions),
        geometries=0 if dataset.geometries is None else len(dataset.geometries),
        measures=len(dataset.measures),
        message="; ".join(m for m in [*messages, meta.note, duplicates] if m),
    )


def plausible(dataset: Dataset, label: str) -> tuple[Dataset, str]:
    """Refuse negative counts and contradicting duplicates; drop exact duplicate rows, and say so.

    A count is a measure whose unit starts with "aantal". Two rows for the same region, period,
    measure and group with the same value are one row written twice; with different values the
    file contradicts itself.
    """
    obs = dataset.observations
    if obs.empty:
        return dataset, ""
    counts = {
        str(m)
        for m, unit in zip(dataset.measures["measure_id"], dataset.measures["unit"], strict=True)
        if str(unit or "").lower().startswith("aantal")
    }
    negative = obs["measure_id"].astype(object).isin(counts).to_numpy() & (obs["value"].to_numpy() < 0)
    if negative.any():
        row = obs.iloc[int(np.flatnonzero(negative)[0])]
        raise InputError(
            label,
            f"negatief aantal voor {row['region_code']} in {row['period']}",
            column=str(row["measure_id"]),
            fix="een aantal is nul of meer; controleer de cel (geheim: 'x', ontbrekend: '.')",
        )
    keys = ["region_code", "period", "measure_id", "population_group"]
    codes = np.zeros(len(obs), dtype=np.int64)
    for key in keys:
        column = obs[key]
        factor = (
            column.cat.codes.to_numpy()
            if isinstance(column.dtype, pd.CategoricalDtype)
            else pd.factorize(column)[0]
        )
        codes = codes * (int(factor.max()) + 2) + factor.astype(np.int64) + 1
    repeated = pd.Series(codes).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return dataset, ""
    twice = obs[repeated]
    distinct = twice.assign(_key=codes[repeated]).drop_duplicates(["_key", "value", "status"])
    if distinct["_key"].duplicated().any():
        row = distinct[distinct["_key"].duplicated(keep=False)].iloc[0]
        raise InputError(
            label,
            f"{row['region_code']} staat meer dan eens in het bestand voor {row['period']}, "
            "met verschillende waarden",
            column=str(row["measure_id"]),
            fix="houd per gebied en periode één rij over",
        )
    kept = obs[~pd.Series(codes).duplicated(keep="first").to_numpy()].reset_index(drop=True)
    dropped = len(obs) - len(kept)
    note = f"{dropped} dubbele waarden (zelfde gebied, periode en maat) één keer opgeslagen"
    return replace(dataset, observations=kept), note


def _replacement_message(old: dict[str, Any]) -> str:
    when = f"ingelezen {old['ingested_at']:%Y-%m-%d %H:%M} uit {old['location']}"
    if not old["kept"]:
        return f"vervangt de eerdere versie ({when})"
    if old["replaced"]:
        return (
            f"vervangt de cijfers van {old['replaced']} regio's uit een eerder bestand ({when}); "
            f"de {old['kept']} andere regio's daarvan blijven staan"
        )
    return (
        f"vult een eerder bestand van dezelfde tabel aan ({when}); "
        f"de {old['kept']} regio's daarvan blijven staan"
    )


def ingest(
    wh: Warehouse,
    paths: Iterable[Path],
    *,
    period: str | None = None,
    layer: str | None = None,
    on_progress: Callable[[Path, int, int], None] | None = None,
    workers: int = 2,
) -> list[FileReport]:
    """Ingest every file under ``paths``; a failing file is reported and leaves no trace.

    Files are read ahead on ``workers`` threads (the readers spend their time in Rust, Arrow and
    GDAL, outside Python's lock) while the warehouse writes them one at a time, in order.

    Examples
    --------
    >>> with Warehouse.open(Path(":memory:")) as wh:                      # doctest: +SKIP
    ...     reports = ingest(wh, [Path("../shared/data")])
    """
    files = discover(paths)
    digests = {path: checksum(path) for path in files}
    known = {path: wh.sources.by_checksum(digest) for path, digest in digests.items()}
    first_of: dict[str, Path] = {}
    for path in files:  # the same file twice in one batch (a copy under another name) is read once
        first_of.setdefault(digests[path], path)
    copies = {path: first_of[digests[path]] for path in files if first_of[digests[path]] != path}
    todo = [path for path in files if known[path] is None and path not in copies]
    reports: dict[Path, FileReport] = {
        path: _unchanged(path, record) for path, record in known.items() if record is not None
    }
    for path, original in copies.items():
        if path not in reports:
            reports[path] = FileReport(
                path=str(path),
                action="unchanged",
                message=f"zelfde inhoud als {original}: al ingelezen als dat bestand; niets gewijzigd",
            )
    done = len(reports)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, wh.batch():
        window: deque[tuple[Path, Future[Checked]]] = deque()
        queue = iter(todo)
        for path in islice(queue, max(1, workers)):
            window.append((path, pool.submit(read_checked, path, period=period, layer=layer)))
        while window:
            path, future = window.popleft()
            upcoming = next(queue, None)
            if upcoming is not None:
                window.append((upcoming, pool.submit(read_checked, upcoming, period=period, layer=layer)))
            if on_progress:
                on_progress(path, done, len(files))
            try:
                reports[path] = store(wh, str(path), digests[path], future.result())
            except WijkradarError as exc:
                reports[path] = FileReport(path=str(path), action="failed", message=str(exc))
            done += 1
    if on_progress and files:
        on_progress(files[-1], len(files), len(files))
    for path, original in copies.items():  # a copy shares its original's table, or its failure
        first = reports[original]
        if first.action == "failed":
            reports[path] = replace(first, path=str(path))
        elif not reports[path].table_id:
            reports[path] = replace(
                reports[path], table_id=first.table_id, title=first.title, periods=first.periods
            )
    return [reports[path] for path in files]


def reports_json(reports: list[FileReport]) -> str:
    """Render the reports as a JSON array."""
    return json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2)
