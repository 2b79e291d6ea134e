"""Two-factor sign-in and the Users screen of a real hub in Chromium, with the default require_2fa (admins): a new
admin is sent to enrolment, scans the QR code (decoded from a screenshot), signs in with a code, adds a user
whose set-password link works; axe finds nothing serious or critical on any of these screens."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import psycopg
import pyotp
import pytest

from tests.support.accounts import PASSWORD, next_code
from tests.support.postgres import database, hub_factory, postgres  # noqa: F401 (fixtures)
from tests.support.processes import hub_command
from tests.support.screens import serious_accessibility_problems

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module')
def hub(hub_factory, database):  # noqa: F811
    assert hub_command(database, 'add-user', 'chief@slmpd.org', '--role', 'admin').returncode == 0
    assert hub_command(database, 'set-password', 'chief@slmpd.org', stdin=PASSWORD + '\n').returncode == 0
    return hub_factory()


def settle(page) -> None:
    page.wait_for_load_state('networkidle')
    page.wait_for_function('window.did_handshake === true')
    page.wait_for_timeout(300)


def sign_in(page, hub, email: str, password: str = PASSWORD) -> None:
    page.goto(hub.url + '/login')
    page.get_by_label('Email').fill(email)
    page.get_by_label('Password').fill(password)
    page.get_by_role('button', name='Sign in').click()


def scanned(page) -> str:
    """What a phone reads from the QR code on the screen."""
    import zxingcpp
    from PIL import Image

    shot = page.locator('.hub-totp-qr svg').screenshot()
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    return code.text


def test_an_admin_enrols_signs_in_with_a_code_and_adds_a_user_with_no_serious_accessibility_problem(
        page, browser, hub, database):  # noqa: F811
    sign_in(page, hub, 'chief@slmpd.org')
    page.wait_for_url('**/two-factor')
    page.get_by_role('heading', name='Set up two-factor sign-in').wait_for()
    settle(page)
    problems = serious_accessibility_problems(page, '/two-factor')
    uri = scanned(page)
    secret = parse_qs(urlsplit(uri).query)['secret'][0]
    assert uri.startswith('otpauth://totp/SLMPD%20Kiosk%20Hub:chief%40slmpd.org')
    assert page.locator('.hub-secret').inner_text().replace(' ', '') == secret, 'the key as text is the same'
    page.get_by_label('Code from the app').fill(pyotp.TOTP(secret).now())
    page.get_by_role('button', name='Turn on two-factor sign-in').click()
    page.get_by_text('Two-factor sign-in is on.').wait_for()
    assert page.locator('.hub-recovery li').count() == 10
    problems += serious_accessibility_problems(page, '/two-factor (recovery codes)')
    page.get_by_role('link', name='Continue').click()
    page.wait_for_url('**/signups')

    page.get_by_role('button', name='Sign out').click()
    page.get_by_text('You are signed out.').wait_for()
    sign_in(page, hub, 'chief@slmpd.org')
    page.wait_for_url('**/login/code')
    settle(page)
    problems += serious_accessibility_problems(page, '/login/code')
    page.get_by_label('Code').fill('000000' if pyotp.TOTP(secret).now() != '000000' else '111111')
    page.get_by_role('button', name='Sign in').click()
    page.get_by_text('That code is not right').wait_for()
    page.get_by_label('Code').fill(next_code(database, 'chief@slmpd.org', secret))
    page.get_by_role('button', name='Sign in').click()
    page.wait_for_url('**/signups')

    page.get_by_role('link', name='Users').click()
    page.wait_for_url('**/users')
    page.get_by_role('heading', name='Add a user').wait_for()
    settle(page)
    problems += serious_accessibility_problems(page, '/users')
    page.get_by_label('Email').fill('desk@slmpd.org')
    page.get_by_role('checkbox', name='Police Athletic League (PAL)').click()
    page.get_by_role('button', name='Add user').click()
    link = page.locator('.hub-secret').last
    link.wait_for()
    url = link.inner_text()
    assert '/set-password?token=' in url
    row = page.locator('tr', has_text='desk@slmpd.org')
    row.wait_for()
    assert row.get_by_role('checkbox', name='desk@slmpd.org: Police Athletic League (PAL)').is_checked()
    page.goto(hub.url + '/account')
    page.get_by_text('unused recovery codes left').wait_for()
    settle(page)
    problems += serious_accessibility_problems(page, '/account')

    newcomer = browser.new_context(viewport={'width': 1280, 'height': 800}).new_page()
    newcomer.goto(url)
    newcomer.get_by_role('heading', name='Choose your password').wait_for()
    settle(newcomer)
    problems += serious_accessibility_problems(newcomer, '/set-password')
    newcomer.get_by_label('New password', exact=True).fill(PASSWORD + ' of mine')
    newcomer.get_by_label('New password again').fill(PASSWORD + ' of mine')
    newcomer.get_by_role('button', name='Save my password').click()
    newcomer.get_by_text('Your password is set. Sign in with it.').wait_for()
    sign_in(newcomer, hub, 'desk@slmpd.org', PASSWORD + ' of mine')
    newcomer.wait_for_url('**/signups')  # a coordinator: the default asks only admins for a second factor
    newcomer.goto(url)
    newcomer.get_by_text('This link does not work').wait_for()
    newcomer.context.close()
    assert problems == []
    assert url.split('token=')[1] not in hub.log_path.read_text(), 'the link is never logged'
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT last_sign_in_at IS NOT NULL FROM users WHERE email = 'desk@slmpd.org'")\
            .fetchone() == (True,)
