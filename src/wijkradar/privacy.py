"""Privacy by default: keyed pseudonymisation of identifiers and disclosure control of counts.

Pseudonymisation
    HMAC-SHA256 with a secret key the user supplies (file or environment); raw identifiers never
    leave the intake step. The same key gives the same pseudonym, so registers link; without the
    key a pseudonym cannot be reversed or recomputed from a list of BSNs.

Disclosure control (rules, as published with every result)
    1. Primary: a count of households or persons from 1 up to ``threshold - 1`` (default 5) is
       suppressed. Zeros are published.
    2. Secondary: every additive relation — the combinations of a region adding up to its total, the
       buurten of a wijk and the wijken of a gemeente adding up to theirs, the ≥2-kinds total — that
       contains exactly one suppressed cell gets a second one (the smallest other cell), repeated
       until no relation can be solved for a single hidden cell.
    3. Rates are computed from unrounded counts and shown with one decimal; a rate whose count is
       suppressed is suppressed too. Counts are published unrounded.
:func:`audit` checks the result with linear programming: no hidden cell may be pinned to one value
by everything that is published.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from wijkradar.errors import KeyMissing

MIN_KEY_BYTES = 16
DEFAULT_THRESHOLD = 5


@dataclass(frozen=True)
class Key:
    """A secret pseudonymisation key; its repr never shows the secret."""

    secret: bytes

    def __repr__(self) -> str:
        return f"Key(<{len(self.secret)} bytes>)"

    def pads(self) -> tuple[bytes, bytes]:
        """Return the HMAC inner and outer padded keys (RFC 2104), for computing HMAC inside SQL engines."""
        block = hashlib.sha256(self.secret).digest() if len(self.secret) > 64 else self.secret
        block = block.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)

    def pseudonym(self, identifier: str) -> str:
        """HMAC-SHA256 of an identifier, hex encoded.

        Examples
        --------
        >>> Key(b"0123456789abcdef").pseudonym("123456782")[:16]
        '5e0e64cf7abd514d'
        """
        return hmac.new(self.secret, identifier.encode(), hashlib.sha256).hexdigest()


def load_key(key_file: Path | None = None, key: str | None = None) -> Key:
    """Read the key from ``key_file``, else take ``key`` (the CLI passes $WIJKRADAR_KEY); refuse without."""
    path = key_file
    if path is not None:
        if not path.is_file():
            raise KeyMissing(
                f"Sleutelbestand {path} bestaat niet. Oplossing: geef het juiste pad met --key-file."
            )
        secret = path.read_bytes().strip()
    elif key:
        secret = key.encode()
    else:
        raise KeyMissing(
            "Geen sleutel voor pseudonimisering: wijkradar weigert persoonsgegevens zonder sleutel te "
            "verwerken. Oplossing: maak een geheime sleutel (bijvoorbeeld 'openssl rand -hex 32 > sleutel') "
            "en geef --key-file sleutel, of zet WIJKRADAR_KEY_FILE of WIJKRADAR_KEY."
        )
    if len(secret) < MIN_KEY_BYTES:
        raise KeyMissing(
            f"De sleutel is te kort ({len(secret)} tekens); gebruik minstens {MIN_KEY_BYTES} "
            "willekeurige tekens (bijvoorbeeld 'openssl rand -hex 32')."
        )
    return Key(secret)


# -- disclosure control ------------------------------------------------------------------------


@dataclass
class Table:
    """Count cells and the additive relations between them.

    ``cells`` has one row per cell: ``cell`` (id), ``value`` (int). ``relations`` has one row per
    membership: ``relation`` (id), ``cell``, ``role`` ('total' or 'part'); in every relation the
    parts add up to the total.
    """

    cells: pd.DataFrame
    relations: pd.DataFrame


def protect(
    table: Table, threshold: int = DEFAULT_THRESHOLD, max_rounds: int = 10_000, also: pd.Series | None = None
) -> pd.Series:
    """Return a boolean Series (index: cell id) saying which cells are suppressed.

    Small counts (1 to ``threshold`` - 1) are suppressed, and the cells marked in ``also`` (such as
    0% or 100% of a small group).

    After the relation-by-relation rule, a linear-algebra check finds hidden cells that several
    relations together would still pin down (for example a rectangle of hidden cells whose row and
    column totals are both known is fine, a chain that closes on itself may not be); each such cell
    gets a further companion, and the rule runs again, until nothing is determined.
    """
    values = table.cells.set_index("cell")["value"]
    suppressed = (values > 0) & (values < threshold)
    if also is not None:
        suppressed = suppressed | also.reindex(values.index, fill_value=False).astype(bool)
    relations_of: dict[str, list[str]] = {}
    cells_of: dict[str, list[str]] = {}
    for relation, cell in zip(table.relations["relation"], table.relations["cell"], strict=True):
        relations_of.setdefault(cell, []).append(relation)
        cells_of.setdefault(relation, []).append(cell)
    for _ in range(100):
        suppressed = _per_relation(table, values, suppressed, max_rounds)
        # A hidden part of a published zero total is known to be 0 (counts are never negative):
        # it protects nothing, so the algebra treats it as published.
        forced = _forced_zero(table, suppressed, values)
        effective = suppressed & ~forced
        determined = determined_cells(table, effective)
        if not determined:
            return suppressed
        totals = set(table.relations.loc[table.relations["role"] == "total", "cell"])
        groups = {c: g for g in _groups(table, effective) for c in g.hidden}
        for cell in determined:
            options = [c for c in (_unpinning(groups[cell], cell) if cell in groups else []) if not forced[c]]
            # Parts before totals, non-zero before zero (a hidden zero protects nothing), then small.
            pick = (
                min(options, key=lambda c: (c in totals, values[c] == 0, values[c]))
                if options
                else _nearest_published(cell, suppressed, values, relations_of, cells_of)
            )
            if pick is None:
                raise RuntimeError(f"cell {cell} is determined and cannot be protected further")
            suppressed.loc[pick] = True
    raise RuntimeError("disclosure control did not converge")


def _forced_zero(table: Table, suppressed: pd.Series, values: pd.Series) -> pd.Series:
    """Return the hidden cells anyone can tell are 0: parts of a total that is known to be 0.

    Counts are never negative, so every part of a published (or itself forced) zero total is 0.
    """
    rel = table.relations
    totals = rel[rel["role"] == "total"]
    parts = rel[rel["role"] == "part"]
    zero_totals = totals[values.reindex(totals["cell"]).to_numpy() == 0]
    hidden = set(suppressed[suppressed].index)
    forced: set[str] = set()
    while True:
        known_zero = zero_totals[~zero_totals["cell"].isin(hidden - forced)]["relation"]
        new = set(parts[parts["relation"].isin(set(known_zero))]["cell"]) & hidden - forced
        if not new:
            return pd.Series(suppressed.index.isin(list(forced)), index=suppressed.index)
        forced |= new


def _nearest_published(
    cell: str,
    suppressed: pd.Series,
    values: pd.Series,
    relations_of: dict[str, list[str]],
    cells_of: dict[str, list[str]],
) -> str | None:
    """Find the smallest published cell reachable from ``cell`` through relations over hidden cells."""
    seen = {cell}
    frontier = [cell]
    while frontier:
        candidates: list[str] = []
        following: list[str] = []
        for current in frontier:
            for relation in relations_of.get(current, []):
                for other in cells_of[relation]:
                    if other in seen:
                        continue
                    seen.add(other)
                    (following if suppressed[other] else candidates).append(other)
        if candidates:
            return min(candidates, key=lambda c: (values[c] == 0, values[c]))
        frontier = following
    return None


def _per_relation(table: Table, values: pd.Series, suppressed: pd.Series, max_rounds: int) -> pd.Series:
    members = table.relations
    for _ in range(max_rounds):
        hidden = members["cell"].map(suppressed)
        count = hidden.groupby(members["relation"]).transform("sum")
        lonely = members[(count == 1)]
        if lonely.empty:
            return suppressed
        candidates = lonely[~lonely["cell"].map(suppressed)].copy()
        candidates["value"] = candidates["cell"].map(values)
        # Prefer parts over totals, non-zero over zero, then the smallest value.
        candidates["order"] = list(
            zip(candidates["role"] == "total", candidates["value"] == 0, candidates["value"], strict=True)
        )
        picks = candidates.sort_values("order").drop_duplicates("relation")["cell"]
        if picks.empty:
            return suppressed
        suppressed.loc[picks.unique()] = True
    raise RuntimeError("secondary suppression did not converge")


@dataclass
class _Group:
    """A connected group of relations over hidden cells, as matrices (rows: relations)."""

    hidden: list[str]
    published: list[str]
    a_hidden: np.ndarray
    a_published: np.ndarray


def _groups(table: Table, suppressed: pd.Series) -> list[_Group]:
    hidden = set(suppressed[suppressed].index)
    rel = table.relations
    touching = set(rel.loc[rel["cell"].isin(hidden), "relation"])
    members = rel[rel["relation"].isin(touching)]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    hidden_members = members[members["cell"].isin(hidden)]
    for _, shared in hidden_members.groupby("cell")["relation"]:
        first = find(shared.iloc[0])
        for other in shared.iloc[1:]:
            parent[find(other)] = first
    members = members.assign(group=members["relation"].map(find))
    out = []
    for _, part in members.groupby("group"):
        relations = sorted(set(part["relation"]))
        row = {r: i for i, r in enumerate(relations)}
        group_hidden = sorted({c for c in part["cell"] if c in hidden})
        group_published = sorted({c for c in part["cell"] if c not in hidden})
        col_h = {c: i for i, c in enumerate(group_hidden)}
        col_p = {c: i for i, c in enumerate(group_published)}
        a_h = np.zeros((len(relations), len(group_hidden)))
        a_p = np.zeros((len(relations), len(group_published)))
        for relation, cell, role in zip(part["relation"], part["cell"], part["role"], strict=True):
            sign = -1.0 if role == "total" else 1.0
            if cell in col_h:
                a_h[row[relation], col_h[cell]] += sign
            else:
                a_p[row[relation], col_p[cell]] += sign
        out.append(_Group(group_hidden, group_published, a_h, a_p))
    return out


def _fixed(a_hidden: np.ndarray) -> np.ndarray:
    """Which hidden columns are pinned: zero in every null-space vector of the relations."""
    _, singular, vt = np.linalg.svd(a_hidden)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:]
    return np.all(np.abs(null) < 1e-9, axis=0) if len(null) else np.ones(a_hidden.shape[1], dtype=bool)


def determined_cells(table: Table, suppressed: pd.Series) -> list[str]:
    """List the hidden cells whose value follows exactly from the published cells and the relations.

    A hidden cell is determined when every solution of the relations has the same value for it:
    when its coordinate is zero in every null-space vector of the relations restricted to the
    hidden cells. Checked per connected group of relations (a gemeente), so it stays cheap.
    """
    hidden = suppressed[suppressed].index
    in_relations = set(table.relations["cell"])
    out: list[str] = [c for c in hidden if c not in in_relations]
    for group in _groups(table, suppressed):
        out += [c for c, is_fixed in zip(group.hidden, _fixed(group.a_hidden), strict=True) if is_fixed]
    return out


def _unpinning(group: _Group, cell: str) -> list[str]:
    """List published cells of the group whose hiding stops ``cell`` being determined.

    ``cell`` is determined when some combination y of the relations isolates it:
    yᵀA_hidden = e_cell. Hiding published column a_j breaks every such combination exactly when
    a_j is orthogonal to the left null space of A_hidden (so all isolating y agree on it) and
    y₀ᵀa_j ≠ 0 for one of them.
    """
    target = np.zeros(len(group.hidden))
    target[group.hidden.index(cell)] = 1.0
    y0, *_ = np.linalg.lstsq(group.a_hidden.T, target, rcond=None)
    u, singular, _ = np.linalg.svd(group.a_hidden, full_matrices=True)
    rank = int((singular > 1e-9).sum())
    left_null = u[:, rank:]
    free = (
        np.all(np.abs(left_null.T @ group.a_published) < 1e-9, axis=0)
        if left_null.size
        else np.ones(len(group.published), dtype=bool)
    )
    effect = np.abs(y0 @ group.a_published) > 1e-9
    best = [c for c, ok in zip(group.published, free & effect, strict=True) if ok]
    if best:
        return best
    # Several independent routes pin the cell: break one of them now (a cell the isolating
    # combination uses); the next round finds what is left.
    return [c for c, ok in zip(group.published, effect, strict=True) if ok]


def audit(
    table: Table, suppressed: pd.Series, cells: Iterable[str] | None = None
) -> dict[str, tuple[float, float]]:
    """Bounds an attacker can derive for hidden cells from all published cells and relations (LP)."""
    from scipy.optimize import linprog

    values = table.cells.set_index("cell")["value"]
    hidden = [c for c in values.index if suppressed.get(c, False)]
    if not hidden:
        return {}
    index = {c: i for i, c in enumerate(hidden)}
    rows, rhs = [], []
    for _, group in table.relations.groupby("relation"):
        coeffs = np.zeros(len(hidden))
        constant = 0.0
        for cell, role in zip(group["cell"], group["role"], strict=True):
            sign = -1.0 if role == "total" else 1.0
            if cell in index:
                coeffs[index[cell]] += sign
            else:
                constant += sign * float(values[cell])
        if coeffs.any():
            rows.append(coeffs)
            rhs.append(-constant)
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs) if rows else None
    bounds = {}
    for cell in cells if cells is not None else hidden:
        objective = np.zeros(len(hidden))
        objective[index[cell]] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        upper = float("inf") if high.status == 3 else -float(high.fun)
        bounds[cell] = (float(low.fun), upper)
    return bounds
