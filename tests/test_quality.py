"""The code's own checks run with the tests: layer contracts, lint and strict typing."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=REPO, capture_output=True, text=True, check=False)


def test_layers_point_one_way() -> None:
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is not installed (pip install -e .[dev])"
    result = _run(exe)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_duckdb_contract_names_every_package_but_the_warehouse() -> None:
    """A new package is forbidden DuckDB from the start (issue 26: the list had fallen behind)."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(
        c for c in config["tool"]["importlinter"]["contracts"] if c.get("forbidden_modules") == ["duckdb"]
    )
    packages = {
        f"wijkradar.{p.stem if p.is_file() else p.name}"
        for p in (REPO / "src" / "wijkradar").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert packages - set(contract["source_modules"]) == {"wijkradar.warehouse"}


@pytest.mark.parametrize("target", ["src", "tests", "benchmarks"])
def test_ruff(target: str) -> None:
    result = _run(sys.executable, "-m", "ruff", "check", target)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rooms_stay_small() -> None:
    """No module over 500 lines, and the app factory only assembles (under 100 lines)."""
    import ast
    import inspect

    from wijkradar.web.app import create_app

    sizes = {
        p.relative_to(REPO): len(p.read_text(encoding="utf-8").splitlines())
        for p in (REPO / "src").rglob("*.py")
    }
    assert sizes and not {p: n for p, n in sizes.items() if n > 500}
    factory = ast.parse(inspect.getsource(create_app)).body[0]
    assert isinstance(factory, ast.FunctionDef)
    assert factory.end_lineno is not None and factory.end_lineno - factory.lineno < 100


def test_every_error_class_lives_in_errors() -> None:
    """One place for the kinds of failure, each with its exit code (issue 26): none defined elsewhere."""
    import ast

    elsewhere = []
    for path in sorted((REPO / "src" / "wijkradar").rglob("*.py")):
        if path.name == "errors.py" and path.parent.name == "wijkradar":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(b) for b in node.bases]
                if any(b.endswith(("Error", "Exception", "Missing")) for b in bases):
                    elsewhere.append(f"{path.relative_to(REPO)}: {node.name}")
    assert elsewhere == []


def test_region_codes_are_taken_apart_only_in_regions() -> None:
    """Prefix tests and slices of region codes live in ``regions.py`` only (issue 26): a slice
    elsewhere is a rule about codes that the next code kind (GG3003, BU0363AA01) silently breaks."""
    import re

    prefixes = "GM|WK|BU|NL|PV|CR|GG|JZ|AM|VR|LD"
    taken_apart = re.compile(
        rf"startswith\(\(?[\"']({prefixes})"  # code.startswith("BU")
        rf"|[\"']({prefixes})[\"']\s*\+"  # "GM" + digits
        rf"|f[\"']({prefixes})\{{"  # f"WK{...}"
        r"|code\W{0,3}\[\s*:?\s*2\s*:?\s*[68]?\s*\]"  # code[:2], code[2:6], str(code)[2:8]
        r"|\[2:[68]\]"
        r"|GM\\d"  # a pattern of gemeente codes of its own
        r"|left\(\w*code,\s*2\)"  # the same in SQL
        r"|str\.slice\(2"
    )
    found = []
    for path in sorted((REPO / "src" / "wijkradar").rglob("*.py")):
        if path == REPO / "src" / "wijkradar" / "regions.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if taken_apart.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []


def _below_the_edges(text: str, home: str) -> list[str]:
    """The modules outside ``cli/`` and ``web/`` (and ``home``, where it is defined) that use ``text``."""
    below = []
    for path in sorted((REPO / "src" / "wijkradar").rglob("*.py")):
        relative = path.relative_to(REPO / "src" / "wijkradar")
        if relative.parts[0] in ("cli", "web") or relative.name == home:
            continue
        if text in path.read_text(encoding="utf-8"):
            below.append(str(relative))
    return below


def test_settings_are_read_at_the_edges() -> None:
    """Only the CLI and the site read the environment; they hand settings down (issue 26)."""
    assert _below_the_edges("Settings.from_env(", "config.py") == []


def test_names_are_resolved_only_at_the_edges() -> None:
    """A gemeente's name becomes its code once, in the CLI or the site; the library takes codes."""
    assert _below_the_edges("resolve_gemeente(", "query.py") == []


def test_one_cache_layer() -> None:
    """Every layer remembers through wijkradar.cache; the warehouse keeps no cache of its own (issue 26)."""
    from wijkradar.warehouse import Warehouse

    assert not hasattr(Warehouse, "memo") and not hasattr(Warehouse, "forget")
    assert _below_the_edges(".memo(", "cache.py") == []
    web = [p.name for p in (REPO / "src" / "wijkradar" / "web").rglob("*.py") if ".memo(" in p.read_text()]
    assert web == []


def test_stored_codes_are_english() -> None:
    """No Dutch word among what is stored as a code (language policy; issue 26).

    The warehouse's CHECK values, the operational store's roles, defaults and CHECK values, and
    the theme catalogue's codes are English; the Dutch words people read come from texts.py.
    """
    import re
    from pathlib import Path

    import sqlalchemy as sa

    from wijkradar import texts
    from wijkradar.appdb import ROLES
    from wijkradar.appdb.schema import metadata
    from wijkradar.regions import LEVELS
    from wijkradar.themes import load_themes
    from wijkradar.warehouse import Warehouse

    # CBS's names of region levels (gemeente, wijk, buurt) are the domain's own codes, as in --level.
    dutch = {w for name in dir(texts) if name.endswith("_NL") for w in _words(getattr(texts, name))}
    dutch -= set(LEVELS)
    assert {"lezer", "hoog", "omlaag", "gepubliceerd"} <= dutch  # the test knows the words it looks for
    with Warehouse.open(Path(":memory:")) as wh:
        checks = [
            str(r[0])
            for r in wh.con.execute(
                "SELECT expression FROM duckdb_constraints() WHERE constraint_type = 'CHECK'"
            ).fetchall()
        ]
    stored = {v for check in checks for v in re.findall(r"'([^']*)'", check)}
    for table in metadata.tables.values():
        for column in table.columns:
            default = getattr(column.default, "arg", None)
            if isinstance(default, str):
                stored.add(default)
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                stored |= set(re.findall(r"'([^']*)'", str(constraint.sqltext)))
    stored |= set(ROLES)
    stored |= {t.attention_when for t in load_themes().values()} | {t.source for t in load_themes().values()}
    assert stored and not stored & dutch, sorted(stored & dutch)


# Words spelled the same in Dutch and English, and the names of things (CBS's region levels, the
# learners, the statistics), which may stand in a key.
SHARED_WORDS = {"model", "code", "status", "start", "partners", "budget", "upload", "interval", "km"}
SHARED_WORDS |= {"mae", "spearman", "glm", "lightgbm", "gemeente", "wijk", "buurt", "id", "n"}
SHARED_WORDS |= {"effect", "min"}  # English words too ("gemeten min verwacht" is Dutch for minus)


def test_json_keys_are_english() -> None:
    """No Dutch word in a key of any JSON answer, but an old key kept beside its new one (issue 26).

    The golden files hold every JSON page and CLI listing for Almere and Rotterdam, as answered.
    A key renamed in 0.3 is still written under its old name until 0.4, with the same value.
    """
    import json
    import re

    from wijkradar import texts
    from wijkradar.renamed import REMOVED_IN, new_key

    dutch = {
        w.lower()
        for name in dir(texts)
        if name.endswith("_NL")
        for text in _words(getattr(texts, name))
        for w in re.findall(r"[a-zëéï]+", text.lower())
    } - SHARED_WORDS
    assert {"prognose", "mantelzorgers", "indeling", "afstand"} <= dutch  # it knows what it looks for
    keys: set[str] = set()

    def walk(data: object) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if new_key(key, value) != key:  # an old key: only beside its new one, same value
                    assert data.get(new_key(key, value)) == value, key
                else:
                    keys.add(key)
                walk(value)
        elif isinstance(data, list):
            for item in data:
                walk(item)

    for golden in sorted((REPO / "tests" / "golden").glob("*.json")):
        walk(json.loads(golden.read_text()))
    assert len(keys) > 100 and REMOVED_IN == "0.4"
    assert sorted(k for k in keys if set(k.split("_")) & dutch) == []


def _words(table: object) -> set[str]:
    if isinstance(table, dict):
        return {str(v) for v in table.values() if isinstance(v, str)}
    if isinstance(table, (tuple, list)):
        return {str(v) for v in table if isinstance(v, str)}
    return set()


def test_no_class_has_more_than_thirty_public_methods() -> None:
    """A class of one concern stays small enough to read (the warehouse once had 57; issue 26)."""
    import importlib
    import inspect
    import pkgutil

    import wijkradar

    large = {}
    for info in pkgutil.walk_packages(wijkradar.__path__, "wijkradar."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != info.name:
                continue
            ours = [k for k in cls.__mro__ if k.__module__.startswith("wijkradar")]  # not str's, Enum's
            public = {m for k in ours for m, v in vars(k).items() if not m.startswith("_") and callable(v)}
            if len(public) > 30:
                large[f"{info.name}.{name}"] = len(public)
    assert large == {}
