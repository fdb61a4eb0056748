"""The warehouse's schema as a list of migrations: version N is the first N scripts applied in order."""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: regions, sources, measures, observations, geometries
    """
    CREATE SEQUENCE source_ids START 1;
    CREATE TABLE sources (
        source_id INTEGER PRIMARY KEY DEFAULT nextval('source_ids'),
        dataset_key VARCHAR NOT NULL,
        publisher VARCHAR NOT NULL,
        table_id VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        population_groups VARCHAR NOT NULL,
        levels VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        licence VARCHAR NOT NULL,
        location VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        checksum VARCHAR NOT NULL UNIQUE,
        n_observations BIGINT NOT NULL,
        n_regions INTEGER NOT NULL,
        note VARCHAR NOT NULL DEFAULT '',
        ingested_at TIMESTAMP NOT NULL
    );
    CREATE TABLE regions (
        code VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        name VARCHAR,
        level VARCHAR NOT NULL CHECK (level IN ('land', 'gemeente', 'wijk', 'buurt')),
        gemeente_code VARCHAR,
        wijk_code VARCHAR,
        PRIMARY KEY (code, boundary_year)
    );
    CREATE TABLE measures (
        measure_id VARCHAR PRIMARY KEY,
        label VARCHAR NOT NULL,
        unit VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        publisher VARCHAR NOT NULL,
        table_id VARCHAR NOT NULL
    );
    CREATE TABLE observations (
        source_id INTEGER NOT NULL,
        region_code VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        period VARCHAR NOT NULL,
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        value DOUBLE,
        lower DOUBLE,
        upper DOUBLE,
        status VARCHAR NOT NULL
            CHECK (status IN ('published', 'missing', 'suppressed', 'nil', 'unreliable')),
        CHECK ((status = 'published') = (value IS NOT NULL))
    );
    CREATE TABLE geometries (
        region_code VARCHAR NOT NULL,
        boundary_year INTEGER NOT NULL,
        source_id INTEGER NOT NULL,
        crs VARCHAR NOT NULL,
        wkb BLOB NOT NULL,
        PRIMARY KEY (region_code, boundary_year, source_id)
    );
    """,
    # 2: risk models with their validation, and their estimates per region
    """
    CREATE SEQUENCE model_ids START 1;
    CREATE TABLE models (
        model_id INTEGER PRIMARY KEY DEFAULT nextval('model_ids'),
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        level VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        algorithm VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        metrics JSON NOT NULL,
        card JSON NOT NULL,
        artifact VARCHAR NOT NULL
    );
    CREATE TABLE estimates (
        model_id INTEGER NOT NULL,
        region_code VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        estimate DOUBLE NOT NULL,
        expected DOUBLE NOT NULL,
        lower DOUBLE NOT NULL,
        upper DOUBLE NOT NULL,
        survey DOUBLE,
        survey_lower DOUBLE,
        survey_upper DOUBLE,
        contributions JSON NOT NULL,
        PRIMARY KEY (model_id, region_code)
    );
    """,
    # 3: goals and interventions (results monitoring); areas are JSON lists of region codes
    """
    CREATE SEQUENCE goal_ids START 1;
    CREATE TABLE goals (
        goal_id INTEGER PRIMARY KEY DEFAULT nextval('goal_ids'),
        gemeente_code VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        area_name VARCHAR NOT NULL,
        area_codes JSON NOT NULL,
        baseline_period VARCHAR NOT NULL,
        baseline_value DOUBLE NOT NULL,
        target_value DOUBLE NOT NULL,
        target_year INTEGER NOT NULL,
        direction VARCHAR NOT NULL CHECK (direction IN ('omlaag', 'omhoog')),
        owner VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL
    );
    CREATE SEQUENCE intervention_ids START 1;
    CREATE TABLE interventions (
        intervention_id INTEGER PRIMARY KEY DEFAULT nextval('intervention_ids'),
        gemeente_code VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        theme VARCHAR NOT NULL DEFAULT '',
        area_codes JSON NOT NULL,
        start_date DATE NOT NULL,
        end_date DATE,
        budget DOUBLE,
        partners VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        goal_ids JSON NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    """,
    # 4: crosswalks between indelingen: which share of an area of one year lies in an area of another
    """
    CREATE TABLE crosswalks (
        source_id INTEGER NOT NULL,
        from_code VARCHAR NOT NULL,
        from_year INTEGER NOT NULL,
        to_code VARCHAR NOT NULL,
        to_year INTEGER NOT NULL,
        weight DOUBLE NOT NULL CHECK (weight >= 0 AND weight <= 1.000001),
        method VARCHAR NOT NULL
    );
    -- a table slice is no longer told apart by its levels: files replace each other per region
    UPDATE sources SET dataset_key = array_to_string(
        list_concat(str_split(dataset_key, '|')[1:4], str_split(dataset_key, '|')[6:6]), '|');
    """,
    # 5: a goal's direction as an English code (down/up); the Dutch words are for people only
    """
    CREATE TABLE goals_v5 (
        goal_id INTEGER PRIMARY KEY DEFAULT nextval('goal_ids'),
        gemeente_code VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        measure_id VARCHAR NOT NULL,
        population_group VARCHAR NOT NULL,
        area_name VARCHAR NOT NULL,
        area_codes JSON NOT NULL,
        baseline_period VARCHAR NOT NULL,
        baseline_value DOUBLE NOT NULL,
        target_value DOUBLE NOT NULL,
        target_year INTEGER NOT NULL,
        direction VARCHAR NOT NULL CHECK (direction IN ('down', 'up')),
        owner VARCHAR NOT NULL DEFAULT '',
        description VARCHAR NOT NULL DEFAULT '',
        created_at TIMESTAMP NOT NULL
    );
    INSERT INTO goals_v5 SELECT goal_id, gemeente_code, title, measure_id, population_group, area_name,
        area_codes, baseline_period, baseline_value, target_value, target_year,
        CASE direction WHEN 'omlaag' THEN 'down' ELSE 'up' END, owner, description, created_at
    FROM goals;
    DROP TABLE goals;
    ALTER TABLE goals_v5 RENAME TO goals;
    """,
    # 6: prognoses: a model's estimates for later years without a survey (Kerncijfers of that year
    # and the model's last round), kept apart from the estimates of the survey year
    """
    CREATE TABLE prognoses (
        model_id INTEGER NOT NULL,
        period VARCHAR NOT NULL,
        region_code VARCHAR NOT NULL,
        estimate DOUBLE NOT NULL,
        lower DOUBLE NOT NULL,
        upper DOUBLE NOT NULL,
        PRIMARY KEY (model_id, period, region_code)
    );
    """,
    # 7: crosswalks derived from the stored ones and the evidence of identity, kept per state of the
    # sources (``stamp``) so a new process reads them instead of deriving them again
    """
    CREATE TABLE derived_crosswalk_sets (
        stamp VARCHAR NOT NULL,
        from_year INTEGER NOT NULL,
        to_year INTEGER NOT NULL,
        level VARCHAR NOT NULL,
        PRIMARY KEY (stamp, from_year, to_year, level)
    );
    CREATE TABLE derived_crosswalks (
        stamp VARCHAR NOT NULL,
        from_year INTEGER NOT NULL,
        to_year INTEGER NOT NULL,
        level VARCHAR NOT NULL,
        from_code VARCHAR NOT NULL,
        to_code VARCHAR NOT NULL,
        weight DOUBLE NOT NULL,
        method VARCHAR NOT NULL
    );
    """,
    # 8: per prognose the periods of the Kerncijfers (and other tables) it read, comma-separated: a
    # prognose for 2024 may rest on the Kerncijfers of 2020 when nothing newer exists for its area
    """
    ALTER TABLE prognoses ADD COLUMN kerncijfers VARCHAR NOT NULL DEFAULT '';
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)
