"""The app database: one SQLAlchemy engine, migrated by Alembic, same code on SQLite and PostgreSQL.

SQLite is the embedded default (WAL mode, a busy timeout, ``BEGIN IMMEDIATE`` for writers
that must serialise); PostgreSQL is the scale-out path, where writers that must serialise take
a transaction-scoped advisory lock instead. ``Database.write_lock`` hides the difference.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bankml.core.errors import ConfigError
from bankml.core.settings import Settings
from bankml.core.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["Database", "Schema", "normalize_url", "open_database"]

log = logging.getLogger(__name__)

MSG_NO_SCHEMA = (
    "this database was opened without a schema to migrate to; "
    "pass schema=bankml.app.SCHEMA (the wiring lists every slice's tables)"
)
_WRITE_LOCK_OPTION = "bankml_write_lock"
_PG_LOCK_KEY = 0x62616E6B  # "bank": advisory lock id for serialised writers


def normalize_url(url: str) -> str:
    """Map ``postgresql://`` to the psycopg 3 driver that bankml installs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass(frozen=True)
class Schema:
    """Where the migrations live and which modules declare tables (in import-path form).

    Core knows neither: the wiring (``bankml.app.SCHEMA``) provides both, so a slice's
    tables reach the one ``metadata`` and the Alembic environment without core importing
    the slice.
    """

    migrations_dir: Path
    table_modules: tuple[str, ...]

    def load(self) -> MetaData:
        """Import every table module (each registers its tables) and return the metadata."""
        for name in self.table_modules:
            importlib.import_module(name)
        return metadata


class Database:
    """The app database: engine, migrations, and a portable serialised-writer transaction."""

    def __init__(self, url: str, schema: Schema | None = None) -> None:
        self.url = normalize_url(url)
        self.schema = schema
        self.is_sqlite = self.url.startswith("sqlite")
        self._checkpoint_in_background = False
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpointer = threading.Event()
        self.engine: Engine = self._create_engine()

    def _create_engine(self) -> Engine:
        if self.is_sqlite:
            engine = create_engine(self.url, connect_args={"timeout": 60})

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                # Take transaction control from pysqlite so we can choose BEGIN IMMEDIATE.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=NORMAL")
                if self._checkpoint_in_background:
                    cur.execute("PRAGMA wal_autocheckpoint=0")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                immediate = conn.get_execution_options().get(_WRITE_LOCK_OPTION, False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

            return engine
        return create_engine(self.url, pool_pre_ping=True)

    def start_background_checkpoints(self, interval: float = 2.0) -> None:
        """SQLite only: move WAL checkpoints off the request path (for the service).

        By default the connection whose commit crosses 1,000 WAL pages copies them into the
        database file, so one request in a few hundred pays 10-30 ms. The service turns that
        off and checkpoints from a background thread instead (PASSIVE: never blocks writers).
        """
        if not self.is_sqlite or self._checkpointer is not None:
            return
        self._checkpoint_in_background = True
        self.engine.dispose()  # new connections pick up wal_autocheckpoint=0

        def run() -> None:
            while not self._stop_checkpointer.wait(interval):
                try:
                    with self.engine.connect() as conn:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                except SQLAlchemyError as exc:  # keep checkpointing; the next pass retries
                    log.warning("background WAL checkpoint failed: %s", exc)

        self._checkpointer = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
        self._checkpointer.start()

    @contextmanager
    def write_lock(self) -> Iterator[Connection]:
        """A transaction that no other serialised writer (thread or process) runs beside."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn = conn.execution_options(**{_WRITE_LOCK_OPTION: True})
            with conn.begin():
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction that sees one consistent state of the database."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def _alembic_config(self, conn: Connection) -> Config:
        from alembic.config import Config

        if self.schema is None:
            raise ConfigError(MSG_NO_SCHEMA)
        cfg = Config()
        cfg.set_main_option("script_location", str(self.schema.migrations_dir))
        cfg.attributes["connection"] = conn
        cfg.attributes["target_metadata"] = self.schema.load()
        return cfg

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at (None when never migrated)."""
        with self.engine.connect() as conn:
            return _stamped_revision(conn)

    def head_revision(self) -> str | None:
        """The newest Alembic revision this code knows (what ``migrate`` brings it to)."""
        if self.schema is None:
            raise ConfigError(MSG_NO_SCHEMA)
        return _head_of(self.schema.migrations_dir)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default: the newest); cheap when already there.

        The up-to-date check reads the migration files and one row, without importing
        Alembic (~0.6 s): every CLI command opens the database, and nearly always it is
        already at the head.
        """
        try:
            target = self.head_revision() if revision == "head" else revision
            if self.current_revision() == target:
                return
            from alembic import command

            log.info("migrating database to %s", target)
            with self.engine.begin() as conn:
                command.upgrade(self._alembic_config(conn), target or "head")
        except OperationalError as exc:
            raise ConfigError(
                f"cannot open the database at {self.safe_url}: {exc.orig}".splitlines()[0]
            ) from None

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Stop the checkpointer (if any) and close pooled connections."""
        if self._checkpointer is not None:
            self._stop_checkpointer.set()
            self._checkpointer.join(timeout=10)
            self._checkpointer = None
        self.engine.dispose()


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(?:[\"']([^\"']+)[\"']|None)", re.M)


def _head_of(migrations_dir: Path) -> str | None:
    """The one revision no other revision builds on, read from the files themselves."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir / "versions").glob("*.py"):
        text_ = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(text_), _DOWN.search(text_)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        if down is not None and down.group(1):
            parents.add(down.group(1))
    heads = sorted(revisions - parents)
    if len(heads) > 1:
        raise ConfigError(f"the migrations have several heads: {', '.join(heads)}")
    return heads[0] if heads else None


def _stamped_revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except SQLAlchemyError:
        return None  # never migrated: no version table yet
    return None if row is None else str(row[0])


def open_database(settings: Settings, schema: Schema, *, migrate: bool = True) -> Database:
    """Open (and by default migrate) the app database named by the settings."""
    settings.home.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url, schema)
    if migrate:
        db.migrate()
    return db
