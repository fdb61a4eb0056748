"""The README is part of the product: every command, setting and exit code is in it, and its
tables are well-formed (a stray blank line splits a Markdown table in two)."""

from __future__ import annotations

import re

import pytest
import typer

from conftest import REPO
from wijkradar import errors
from wijkradar.cli import app

README = (REPO / "README.md").read_text(encoding="utf-8")
SRC = REPO / "src" / "wijkradar"


def _commands(group: typer.Typer, prefix: str = "wijkradar") -> list[str]:
    names = [f"{prefix} {c.name or c.callback.__name__}" for c in group.registered_commands if c.callback]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name
        names += _commands(sub.typer_instance, f"{prefix} {sub.name}")
    return names


@pytest.mark.parametrize("command", _commands(app))
def test_every_command_is_in_the_readme(command: str) -> None:
    first, *rest = command.split(" ", 2)[1:]
    # groups are documented as "wijkradar goals add|list|...": the sub-command may stand in a list
    assert f"`wijkradar {first}" in README, command
    if rest:
        assert re.search(rf"wijkradar {first} [^`]*\b{re.escape(rest[0])}\b", README), command


def test_every_environment_variable_is_in_the_readme() -> None:
    used = {m for f in SRC.rglob("*.py") for m in re.findall(r"WIJKRADAR_[A-Z_]+", f.read_text())}
    assert used, "no settings found: the search itself is broken"
    assert sorted(v for v in used if f"`{v}`" not in README) == []


def test_every_exit_code_is_in_the_readme() -> None:
    codes = {0, 2}  # success, and typer's usage errors
    for module in [
        errors,
        *(
            __import__(m, fromlist=["x"])
            for m in (
                "wijkradar.privacy",
                "wijkradar.linkage.spark_engine",
                "wijkradar.reports.staat",
                "wijkradar.goals",
            )
        ),
    ]:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, errors.WijkradarError):
                codes.add(value.exit_code)
    table = re.search(r"\| exit code \| meaning \|\n\|---\|---\|\n((?:\|.*\|\n)+)", README)
    assert table, "the README has no exit code table"
    documented = {int(line.split("|")[1]) for line in table.group(1).splitlines()}
    assert documented == codes


def test_readme_tables_parse() -> None:
    lines = README.splitlines()
    in_code = False
    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("|"):
            continue
        previous = lines[number - 2] if number > 1 else ""
        header = number < len(lines) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[number].strip() or "x")
        assert previous.startswith("|") or header, f"README line {number}: a table row without its header"
        cells = line.strip().strip("|")
        width = len(re.split(r"(?<!\\)\|", cells))
        start = number - 1
        while start > 0 and lines[start - 1].startswith("|"):
            start -= 1
        expected = len(re.split(r"(?<!\\)\|", lines[start].strip().strip("|")))
        assert width == expected, f"README line {number}: {width} cells, the table has {expected}"


def test_the_two_commands_come_first() -> None:
    block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "# 1." in block and "# 2." in block
    assert "wijkradar ingest" in block and "python -m pytest" in block
