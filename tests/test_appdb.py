"""The operational store and the warehouse's versions: what lets a team and the CLI work at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import wijkradar.appdb
from conftest import REPO, grid_geojson
from wijkradar.appdb import AppDB
from wijkradar.cli import app
from wijkradar.warehouse import Warehouse
from wijkradar.web.app import create_app

GOAL = {
    "gemeente_code": "GM0034",
    "title": "doel",
    "measure_id": "Eenzaam_28",
    "population_group": "65+",
    "area_name": "Almere",
    "area_codes": ["GM0034"],
    "baseline_period": "2016",
    "baseline_value": 47.3,
    "target_value": 44.0,
    "target_year": 2026,
    "direction": "down",
    "owner": "",
    "description": "",
}


def _store(tmp_path: Path) -> AppDB:
    return AppDB.open(wijkradar.appdb.default_url(tmp_path / "w.duckdb"))


def test_migrations_make_exactly_the_schema_the_code_describes(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wijkradar.appdb.schema import metadata

    with _store(tmp_path) as own, own.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_a_store_of_0_3_gets_english_codes(tmp_path: Path) -> None:
    """Roles and an upload's attention stored as Dutch words by 0.3 become codes on opening."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    url = wijkradar.appdb.default_url(tmp_path / "w.duckdb")
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(wijkradar.appdb.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            sa.text(
                "INSERT INTO users (user_id, name, password, national_admin, created_at) "
                "VALUES (1, 'a', 'x', false, '2026-01-01')"
            )
        )
        for role, gemeente in (("lezer", "GM0034"), ("beheerder", "GM0363")):
            connection.execute(
                sa.text("INSERT INTO memberships (user_id, gemeente_code, role) VALUES (1, :g, :r)"),
                {"g": gemeente, "r": role},
            )
    engine.dispose()
    with AppDB.open(url) as own:
        found = own.accounts.user("a")
    assert found is not None and found["roles"] == {"GM0034": "reader", "GM0363": "admin"}


def test_goals_of_0_3_on_an_upload_get_the_english_prefix(tmp_path: Path) -> None:
    """A goal on an upload stored as ``eigen-<key>`` by 0.3 is ``own-<key>`` after opening (0004)."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    url = wijkradar.appdb.default_url(tmp_path / "w.duckdb")
    with AppDB.open(url) as own:
        own.add_goal({**GOAL, "measure_id": "eigen-wmo"})
        own.add_goal(GOAL)
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(wijkradar.appdb.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "0003")  # as a store of 0.3 would be
    engine.dispose()
    with AppDB.open(url) as own:
        assert sorted(g["measure_id"] for g in own.goals()) == ["Eenzaam_28", "own-wmo"]


def test_an_old_warehouse_plan_is_taken_over_by_a_writer_only(tmp_path: Path, small_db: Path) -> None:
    """Goals kept in the warehouse before 0.2 move to the store once, and never on a read (issue 26)."""
    import json
    import shutil

    from wijkradar.goals import adopt_old_plan, own_store

    db = tmp_path / "w.duckdb"
    shutil.copy(small_db, db)
    with Warehouse.open(db) as wh:
        wh.con.execute(
            "INSERT INTO goals VALUES (7, 'GM0034', 'oud doel', 'Eenzaam_28', '65+', 'Almere', "
            "'[\"GM0034\"]', '2016', 47.3, 44.0, 2026, 'down', '', '', '2024-01-01')"
        )
    listed = CliRunner().invoke(app, ["goals", "list", "--gemeente", "GM0034", "--db", str(db), "-f", "json"])
    assert listed.exit_code == 0 and json.loads(listed.output) == []  # reading took nothing over
    with Warehouse.open(db, read_only=True) as wh, own_store(wh) as own:
        assert own.goals() == []
        assert adopt_old_plan(wh, own) == 1 and adopt_old_plan(wh, own) == 0
        assert [(g["goal_id"], g["title"]) for g in own.goals()] == [(7, "oud doel")]


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with _store(tmp_path) as own:
        with pytest.raises(RuntimeError), own.transaction():
            own.add_goal(GOAL)
            own.add_intervention(
                {
                    "gemeente_code": "GM0034",
                    "title": "x",
                    "theme": "",
                    "area_codes": ["GM0034"],
                    "start_date": "2024-01-01",
                    "end_date": None,
                    "budget": None,
                    "partners": "",
                    "description": "",
                    "goal_ids": [],
                }
            )
            raise RuntimeError("halfway")
        assert own.goals() == [] and own.interventions() == []
        assert own.plan_version("GM0034") == "0"  # the revision went back too


def test_audit_entries_of_many_threads_are_all_stored_before_their_callers_go_on(tmp_path: Path) -> None:
    writes: list[int] = []
    with _store(tmp_path) as own:
        write = own._batches._write

        def counted(rows: list[dict[str, object]]) -> None:
            time.sleep(0.005)  # a write that takes a while, so that others arrive meanwhile
            write(rows)
            writes.append(len(rows))

        own._batches._write = counted
        seen_at_return: list[bool] = []

        def view(n: int) -> None:
            for i in range(10):
                own.log(f"lezer{n}", "GM0034", "view", f"pagina {n}-{i}")
                stored = {e["object"] for e in own.audit("GM0034")}
                seen_at_return.append(f"pagina {n}-{i}" in stored)

        threads = [threading.Thread(target=view, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        objects = [e["object"] for e in own.audit()]
    assert sorted(objects) == sorted(f"pagina {n}-{i}" for n in range(12) for i in range(10))
    assert all(seen_at_return) and len(seen_at_return) == 120
    assert sum(writes) == 120 and len(writes) < 120  # together, not one transaction per entry


def test_a_failed_audit_write_raises_in_every_caller_it_held(tmp_path: Path) -> None:
    with _store(tmp_path) as own:
        started = threading.Event()

        def failing(rows: list[dict[str, object]]) -> None:
            started.set()
            time.sleep(0.05)
            raise RuntimeError("schijf vol")

        own._batches._write = failing
        errors: list[str] = []

        def view(n: int) -> None:
            try:
                own.log("lezer", "GM0034", "view", f"pagina {n}")
            except RuntimeError as exc:
                errors.append(str(exc))

        first = threading.Thread(target=view, args=(0,))
        first.start()
        started.wait(5)
        others = [threading.Thread(target=view, args=(n,)) for n in range(1, 6)]
        for thread in [*others]:
            thread.start()
        for thread in [first, *others]:
            thread.join()
        assert errors == ["schijf vol"] * 6
        assert own.audit() == []
        with own.transaction():  # inside a change's transaction the entry is part of it
            own.log("analist", "GM0034", "save", "doelen")
        assert [e["action"] for e in own.audit()] == ["save"]


WRITER = textwrap.dedent(
    """
    import sys
    from wijkradar.appdb import AppDB
    from test_appdb import GOAL
    own = AppDB.open(sys.argv[1])
    for i in range(int(sys.argv[2])):
        goal_id = own.add_goal({**GOAL, "title": f"{sys.argv[3]} {i}"})
        print(goal_id, flush=True)
    """
)


def _writer(url: str, count: int, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'tests'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(count), name], stdout=subprocess.PIPE, text=True, env=env
    )


def test_two_processes_write_at_once_without_losing_anything(tmp_path: Path) -> None:
    with _store(tmp_path) as own:
        url = own.url
    writers = [_writer(url, 40, name) for name in ("a", "b")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    with AppDB.open(url) as own:
        titles = sorted(g["title"] for g in own.goals())
        assert len(titles) == 80 and len(set(titles)) == 80
        assert own.plan_version("GM0034") == "80"


def test_a_killed_writer_loses_no_committed_goal(tmp_path: Path) -> None:
    with _store(tmp_path) as own:
        url = own.url
    writer = _writer(url, 100000, "k")
    assert writer.stdout is not None
    committed = [int(writer.stdout.readline()) for _ in range(30)]
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    with AppDB.open(url) as own:
        stored = {g["goal_id"] for g in own.goals()}
    assert set(committed) <= stored


def test_the_cli_writes_while_the_site_reads(small_db: Path, data: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(small_db.read_bytes())
    with TestClient(create_app(db)) as site:
        assert site.get("/healthz").status_code == 200
        before = site.get("/healthz").json()["observations"]
        # Today's ingest of boundaries while the site holds the file open (once a lock error).
        almere = [f"BU0034{n:04d}" for n in range(101, 105)]
        result = CliRunner().invoke(
            app,
            ["ingest", str(grid_geojson(almere, tmp_path / "almere_buurten_2020.geojson")), "--db", str(db)],
        )
        assert result.exit_code == 0, result.output
        shown = CliRunner().invoke(app, ["show", "Almere", "--db", str(db), "--format", "json"])
        assert shown.exit_code == 0, shown.output
        time.sleep(1.1)  # the site looks for a new version once a second
        assert site.get("/healthz").json()["observations"] == before  # boundaries are no observations
        state = site.app.state  # type: ignore[attr-defined]
        assert state.site.version[0] == os.stat(db).st_ino  # it follows the new file
        # ... and serves what is in it: DuckDB would hand the old file out again under the same path
        more = CliRunner().invoke(
            app, ["ingest", str(data / "cbs-kwb-wijken-2017" / "wijk_2017.dbf"), "--db", str(db)]
        )
        assert more.exit_code == 0, more.output
        time.sleep(1.1)
        after = site.get("/healthz").json()["observations"]
        assert after > before
        tables = {s["table_id"] for s in site.get("/bronnen.json").json()["sources"]}
        assert "83765NED" in tables


def test_a_killed_writer_leaves_the_warehouse_as_it_was(small_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(small_db.read_bytes())
    script = textwrap.dedent(
        """
        import os, signal, sys
        from pathlib import Path
        from wijkradar.warehouse import Warehouse
        wh = Warehouse.open(Path(sys.argv[1]))
        wh.con.execute("DELETE FROM observations")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert subprocess.run([sys.executable, "-c", script, str(db)], check=False).returncode == -signal.SIGKILL
    assert list(tmp_path.glob(".w.duckdb.*.nieuw"))  # the unfinished copy is left ...
    with Warehouse.open(db, read_only=True) as wh:
        assert wh.observation_count() > 0  # ... and the warehouse is untouched
    with Warehouse.open(db) as wh:
        pass
    assert not list(tmp_path.glob(".w.duckdb.*.nieuw"))  # the next writer cleans it up
