"""Every answer of a real hub process carries the security headers; HSTS only when the request came over TLS."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope='module')
def hub(hub_factory):
    return hub_factory(trusted_proxies='127.0.0.1/32')


PATHS = [('GET', '/login'), ('GET', '/signups'), ('GET', '/healthz-not-here'), ('HEAD', '/api/v1/signups'),
         ('POST', '/api/v1/heartbeat')]


@pytest.mark.parametrize(('method', 'path'), PATHS)
def test_every_answer_carries_the_security_headers(hub, method, path):
    answer = httpx.request(method, hub.url + path, timeout=10)
    policy = answer.headers['content-security-policy']
    directives = dict(part.strip().split(' ', 1) for part in policy.split(';') if part.strip())
    assert directives['default-src'] == "'self'"
    assert directives['frame-ancestors'] == "'none'"
    assert 'http' not in policy and '*' not in policy, policy  # no remote origin anywhere
    assert answer.headers['referrer-policy'] == 'no-referrer'
    assert answer.headers['x-content-type-options'] == 'nosniff'
    assert 'strict-transport-security' not in answer.headers  # plain HTTP: HSTS would mean nothing


@pytest.mark.parametrize('path', ['/login', '/api/v1/signups'])  # the API goes past the pages' own middleware
def test_hsts_is_sent_only_when_a_trusted_proxy_says_the_request_came_over_https(hub, path):
    over_tls = httpx.head(hub.url + path, headers={'X-Forwarded-Proto': 'https'}, timeout=10)
    assert over_tls.headers['strict-transport-security'].startswith('max-age=')
    assert int(over_tls.headers['strict-transport-security'].split('=')[1].split(';')[0]) >= 15_552_000


def test_an_untrusted_peer_cannot_claim_https(hub_factory):
    untrusted = hub_factory()  # no trusted proxies: the peer's X-Forwarded-Proto is its own say
    answer = httpx.get(untrusted.url + '/login', headers={'X-Forwarded-Proto': 'https'}, timeout=10)
    assert 'strict-transport-security' not in answer.headers
