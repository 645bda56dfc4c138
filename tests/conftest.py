"""Shared fixtures: a fresh app database on SQLite and (for ``postgres`` tests) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bankml.app import SCHEMA
from bankml.core.settings import Settings, load_settings
from bankml.core.storage import Database

PG_URL = os.environ.get("BANKML_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a temporary home with a SQLite database."""
    return load_settings(home=tmp_path / "home", env="test", secret_key=TEST_SECRET)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'app.db'}", SCHEMA)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_db(pg_schema_url: str) -> Iterator[Database]:
    db = Database(pg_schema_url, SCHEMA)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """The app database on each supported backend."""
    name = "sqlite_db" if request.param == "sqlite" else "pg_db"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """One local Spark session for every `spark` test of the run (a JVM start costs ~15 s on
    2 cores); one partition per shuffle: the samples are small, stage overhead is the cost."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'bankml[spark]')")
    from bankml.data.spark import local_spark_session

    session = local_spark_session(**{"spark.sql.shuffle.partitions": "1"})
    yield session
    session.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs ``-n 2 --dist loadgroup``), keep each test module
    on one worker, so its module-scoped fixtures (a trained model, a served app, a browser)
    are built once, and every module with a `spark` test on the same worker, so one JVM
    serves them all. Runs before xdist reads the groups."""
    spark_modules = {item.module for item in items if item.get_closest_marker("spark")}
    for item in items:
        group = "spark" if item.module in spark_modules else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))
