"""One exception class per kind of failure, each with a message a civil servant understands.

Messages are Dutch, because the people reading them are Dutch civil servants. Every input error
names the file, the row or column, the offending value and what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


class WijkradarError(Exception):
    """Base class: every error wijkradar raises on purpose."""

    exit_code = 1


class InputError(WijkradarError):
    """A file could not be read as the table it claims to be."""

    exit_code = 2

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        fix: str,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.problem = problem
        self.fix = fix
        where = [file]
        if row is not None:
            where.append(f"rij {row}")
        if column is not None:
            where.append(f"kolom '{column}'")
        text = f"{', '.join(where)}: {problem}"
        if value is not None:
            text += f" (waarde: {value!r})"
        super().__init__(f"{text}. Oplossing: {fix}")

    def named(self, names: dict[str, str]) -> InputError:
        """Return the same error about what the user typed.

        A column the reader knows as ``target_value`` is named as the user gave it (``--target``);
        an error about another column stays as it is.

        >>> str(InputError("doel", "geen getal", column="target_value", fix="44,0").named(
        ...     {"target_value": "--target"}))
        'optie --target: geen getal. Oplossing: 44,0'
        """
        if self.column not in names:
            return self
        return InputError(f"optie {names[self.column]}", self.problem, value=self.value, fix=self.fix)


class UnknownFormatError(InputError):
    """The file matches none of the formats wijkradar can read."""


class NotFoundError(WijkradarError):
    """A region, measure or table that does not exist, with close matches."""

    exit_code = 3

    def __init__(
        self, kind: str, wanted: str, candidates: Iterable[str] = (), *, field: str | None = None
    ) -> None:
        self.kind = kind  # the Dutch word in the message
        self.field = field  # the input it is about, for a form to point at (``theme``, ``measure_id``)
        self.wanted = wanted
        self.suggestions = suggest(wanted, candidates)
        text = f"Onbekende {kind}: {wanted!r}."
        if self.suggestions:
            text += " Bedoelde u: " + ", ".join(self.suggestions) + "?"
        super().__init__(text)


class DownloadError(WijkradarError):
    """The open-data API could not be reached or answered something unusable."""

    exit_code = 4


class WarehouseError(WijkradarError):
    """The warehouse file is missing, locked, or of a newer schema than this version knows."""

    exit_code = 5


class ModelMissing(WijkradarError):
    """No risk model is stored for what a command or page asks; only 'wijkradar train' makes one."""

    exit_code = 6

    def __init__(self, what: str, train_args: str) -> None:
        self.train_command = f"wijkradar train {train_args}"
        super().__init__(f"Er is nog geen risicomodel voor {what}. Oplossing: draai '{self.train_command}'.")


class KeyMissing(WijkradarError):
    """No usable pseudonymisation key for the register linkage."""

    exit_code = 7


class SparkMissing(WijkradarError):
    """The Spark engine of the register linkage (PySpark, Java) is not installed."""

    exit_code = 8


class PdfMissing(WijkradarError):
    """The PDF renderer (Playwright + Chromium) is not available."""

    exit_code = 9


class Forbidden(WijkradarError):
    """A user asked for what their role does not allow (the web answers 403).

    ``gemeente`` names the gemeente whose own data were asked for: the refusal goes into its audit
    log, so that its beheerders see who tried.
    """

    exit_code = 10

    def __init__(self, message: str, gemeente: str | None = None) -> None:
        super().__init__(message)
        self.gemeente = gemeente


def suggest(wanted: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` close matches for ``wanted``, case-insensitively.

    Examples
    --------
    >>> suggest("almre", ["Almere", "Almelo", "Amsterdam"])
    ['Almere', 'Almelo']
    """
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    hits = get_close_matches(wanted.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[h] for h in hits]
