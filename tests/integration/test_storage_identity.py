"""Storage and identities behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bankml.app import SCHEMA
from bankml.core.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from bankml.core.identity import EVERYONE, Role, UserDirectory, parse_groups
from bankml.core.storage import Database


def test_migrations_create_exactly_the_declared_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SCHEMA.load())
    assert diff == []
    assert db.current_revision() is not None


def test_migrate_twice_is_a_no_op(db: Database) -> None:
    before = db.current_revision()
    db.migrate()
    assert db.current_revision() == before


def test_add_and_find_users_with_roles_and_groups(db: Database) -> None:
    users = UserDirectory(db)
    alice = users.add("alice", Role.VALIDATOR, parse_groups("model-risk, credit-risk"))
    users.add("bob", "fraud_analyst")
    assert alice.groups == frozenset({"model-risk", "credit-risk"})
    assert EVERYONE in alice.reading_groups
    assert [u.name for u in users.list()] == ["alice", "bob"]
    assert users.get("bob").role is Role.FRAUD_ANALYST


def test_duplicate_user_is_a_conflict(db: Database) -> None:
    users = UserDirectory(db)
    users.add("alice", Role.ADMIN)
    with pytest.raises(ConflictError, match="already exists"):
        users.add("alice", Role.VALIDATOR)


@pytest.mark.parametrize(("name", "role"), [("Bad Name!", "admin"), ("carol", "wizard")])
def test_invalid_names_and_roles_are_refused(db: Database, name: str, role: str) -> None:
    with pytest.raises(InputError):
        UserDirectory(db).add(name, role)


def test_api_keys_authenticate_are_stored_hashed_and_revocable(db: Database) -> None:
    users = UserDirectory(db)
    users.add("dora", Role.AUDITOR)
    key = users.issue_key("dora")
    assert users.authenticate(key).name == "dora"
    with db.engine.connect() as conn:
        stored = [r.key_hash for r in conn.exec_driver_sql("SELECT key_hash FROM api_keys")]
    assert key not in stored and all(len(h) == 64 for h in stored)
    assert users.revoke_keys("dora") == 1
    with pytest.raises(PermissionDeniedError, match="revoked"):
        users.authenticate(key)
    with pytest.raises(PermissionDeniedError):
        users.authenticate("not-a-key")


def test_role_requirement(db: Database) -> None:
    user = UserDirectory(db).add("erin", Role.FRAUD_ANALYST)
    user.require(Role.FRAUD_ANALYST, Role.ADMIN)
    with pytest.raises(PermissionDeniedError, match="needs validator"):
        user.require(Role.VALIDATOR)


def test_unknown_user_says_how_to_add_one(db: Database) -> None:
    with pytest.raises(NotFoundError, match="bankml users add"):
        UserDirectory(db).get("nobody")
