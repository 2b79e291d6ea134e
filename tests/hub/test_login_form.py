"""The sign-in form of a real hub process carries a CSRF token: a POST without the matching one is refused calmly."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.processes import hub_command

PASSWORD = 'a long enough password'
CSRF_COOKIE = 'kiosk_hub_csrf'


@pytest.fixture(scope='module')
def hub(hub_factory, database):
    assert hub_command(database, 'add-user', 'desk@slmpd.org', '--role', 'admin').returncode == 0
    assert hub_command(database, 'set-password', 'desk@slmpd.org', stdin=PASSWORD + '\n').returncode == 0
    return hub_factory(require_2fa='none')  # the second step is test_account_screens.py's subject


def form_token(hub) -> tuple[str, str]:
    """What a browser gets with the form: the cookie, and the token in the page."""
    answer = httpx.get(hub.url + '/login', timeout=10)
    cookie = re.search(rf'{CSRF_COOKIE}=([^;]+)', answer.headers['set-cookie']).group(1)
    assert 'HttpOnly' in answer.headers['set-cookie'] and 'SameSite=strict' in answer.headers['set-cookie']
    token = re.search(r'name=\\?"csrf\\?"[^>]*?value=\\?"([^"\\]+)', answer.text) or \
        re.search(r'"name":"csrf"[^}]*"value":"([^"]+)"', answer.text)
    assert token, 'the form carries no token'
    return cookie, token.group(1)


def post(hub, form: dict[str, str], cookie: str | None) -> httpx.Response:
    headers = {'Cookie': f'{CSRF_COOKIE}={cookie}'} if cookie else {}
    return httpx.post(hub.url + '/login', data=form, headers=headers, timeout=30)


def test_a_sign_in_with_the_forms_token_gets_in(hub):
    cookie, token = form_token(hub)
    answer = post(hub, {'email': 'desk@slmpd.org', 'password': PASSWORD, 'csrf': token}, cookie)
    assert answer.status_code == 303 and answer.headers['location'] == '/signups'


@pytest.mark.parametrize('forgery', ['no token', 'no cookie', 'another token'])
def test_a_sign_in_without_the_forms_token_is_refused_calmly(hub, forgery):
    cookie, token = form_token(hub)
    form = {'email': 'desk@slmpd.org', 'password': PASSWORD, 'csrf': token}
    if forgery == 'no token':
        del form['csrf']
    elif forgery == 'another token':
        form['csrf'] = form_token(hub)[1]
    answer = post(hub, form, None if forgery == 'no cookie' else cookie)
    assert answer.status_code == 303 and answer.headers['location'] == '/login?expired=1'
    assert 'kiosk_hub_session' not in answer.headers.get('set-cookie', '')
    page = httpx.get(hub.url + answer.headers['location'], timeout=10)
    assert page.status_code == 200 and 'The sign-in form had expired' in page.text
