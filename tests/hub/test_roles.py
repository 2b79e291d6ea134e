"""Two roles: the owner migrates, the hub runs as a role that owns nothing and cannot touch the audit log's past."""

from __future__ import annotations

import secrets
import uuid

import httpx
import psycopg
import pytest
from psycopg import errors

from tests.support.accounts import enrol, next_code, sign_in
from tests.support.flood import one_record
from tests.support.processes import hub_command


@pytest.fixture(scope='module')
def runtime_url(database):
    """A login role with no privileges of its own, over TCP (the socket's peer authentication is the OS user's)."""
    role, password = f'kiosk_app_{uuid.uuid4().hex[:8]}', secrets.token_hex(16)
    with psycopg.connect(database, autocommit=True) as owner:
        owner.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    assert hub_command(database, 'grant', role).returncode == 0
    yield f'postgresql://{role}:{password}@127.0.0.1/{database.rsplit("/", 1)[1]}'
    with psycopg.connect(database, autocommit=True) as owner:
        owner.execute(f'DROP OWNED BY {role}')
        owner.execute(f'DROP ROLE {role}')


@pytest.mark.parametrize('statement', [
    'ALTER TABLE audit_log DISABLE TRIGGER ALL',
    'DROP TABLE audit_log',
    "UPDATE audit_log SET actor = 'nobody'",
    'DELETE FROM audit_log',
    'TRUNCATE audit_log',
    'CREATE TABLE mine (x int)',
])
def test_the_runtime_role_cannot_rewrite_the_audit_log_or_the_schema(runtime_url, statement):
    with psycopg.connect(runtime_url) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_hub_works_fully_as_the_runtime_role(runtime_url, database, hub_factory):
    assert hub_command(database, 'add-user', 'desk@slmpd.org', '--role', 'admin').returncode == 0
    assert hub_command(database, 'set-password', 'desk@slmpd.org', stdin='a long enough password\n').returncode == 0
    created = hub_command(runtime_url, 'add-kiosk', 'role-lobby')  # the CLI, too, works as the runtime role
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    hub = hub_factory(database_url=runtime_url)
    answer = httpx.post(hub.signups_url, json=one_record('role-lobby'), headers={'Authorization': f'Bearer {token}'},
                        timeout=30)
    assert answer.status_code == 200, answer.text
    secret = enrol(database, 'desk@slmpd.org')  # the second step writes as the runtime role too
    landed, session = sign_in(hub.url, 'desk@slmpd.org', code=next_code(database, 'desk@slmpd.org', secret))
    assert landed == '/signups'
    for path in ('/signups', '/kiosks', '/activity', '/audit', '/users'):
        page = httpx.get(hub.url + path, headers={'Cookie': f'kiosk_hub_session={session}'}, timeout=30)
        assert page.status_code == 200 and '/login' not in str(page.url), path
    with psycopg.connect(database) as conn:
        actions = {row[0] for row in conn.execute("SELECT action FROM audit_log WHERE actor = 'desk@slmpd.org'")}
    assert 'login' in actions
