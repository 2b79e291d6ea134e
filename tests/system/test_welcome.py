"""What `make run` and `kiosk hub run` say first: where to look, where the data is, what is off, how staff get in."""

from __future__ import annotations

from kiosk.cli import welcome
from kiosk.config import load_settings
from kiosk.hub.cli import welcome as hub_welcome
from kiosk.hub.config import load_hub_settings
from kiosk.pin import StaffPin

SECRET = 'tok-never-printed-1234'


def test_make_run_says_where_to_look_where_the_data_is_that_sync_is_off_and_how_staff_get_in(kiosk_factory):
    kiosk = kiosk_factory()
    said = kiosk.log_path.read_text()
    assert f'serving the kiosk at http://127.0.0.1:{kiosk.port}/' in said
    assert f'data: {kiosk.data_dir.resolve()}' in said
    assert 'sync: off: set KIOSK_SYNC_URL and KIOSK_SYNC_TOKEN' in said
    assert 'set a PIN with kiosk set-pin' in said and 'hold the logo for 3 seconds' in said


def test_with_sync_and_a_pin_it_names_the_hub_but_never_the_token(tmp_path):
    StaffPin(tmp_path).set('4821')
    settings = load_settings(data_dir=tmp_path, host='0.0.0.0')
    settings = settings.model_copy(update={'sync_url': 'https://hub.example.org/api/v1/signups?x=1',
                                           'sync_token': SECRET})
    said = welcome(settings, pin_set=StaffPin(tmp_path).is_set)
    assert 'http://127.0.0.1:8080/' in said  # a wildcard bind is opened at loopback
    assert 'sync: to hub.example.org every 60 s' in said
    assert 'staff console: hold the logo for 3 seconds' in said and 'set-pin' not in said
    assert SECRET not in said and 'x=1' not in said


def test_the_hub_names_its_database_but_never_the_password(monkeypatch):
    monkeypatch.setenv('KIOSK_HUB_DATABASE_URL', 'postgresql://hub:s3cret-pass@db.internal:5432/kiosk_hub')
    said = hub_welcome(load_hub_settings())
    assert 'serving the hub at http://127.0.0.1:8090/' in said
    assert 'database: kiosk_hub on db.internal' in said
    assert 's3cret-pass' not in said and 'hub:' not in said.split('database:')[1].split('\n')[0]
    assert 'kiosk hub add-user EMAIL --role admin' in said
    assert 'second factor: admins set up an authenticator app at their first sign-in' in said
    assert 'mail: off (no smtp_url' in said


def test_the_hub_names_its_mail_server_but_never_its_login(monkeypatch):
    for key, value in (('SMTP_URL', 'smtps://mail.slmpd.org'), ('SMTP_USER', 'hub-login'),
                       ('SMTP_PASSWORD', 's3cret-mail'), ('MAIL_FROM', 'hub@slmpd.org'),
                       ('PUBLIC_URL', 'https://hub.slmpd.org')):
        monkeypatch.setenv(f'KIOSK_HUB_{key}', value)
    said = hub_welcome(load_hub_settings())
    assert 'mail: through mail.slmpd.org:465, digests at 08:00' in said
    assert 's3cret-mail' not in said and 'hub-login' not in said
