"""The proxy examples in docs/hub.md log no socket query string (its client_id is a live coordinator page's key) and
no set-password link's token."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = (Path(__file__).parents[2] / 'docs' / 'hub.md').read_text()


def example(after: str, fence: str) -> str:
    start = PAGE.index(after)
    return re.search(rf'```{fence}\n(.*?)```', PAGE[start:], re.S).group(1)


def test_the_nginx_example_logs_the_path_without_the_query_string():
    config = example('Behind HTTPS', 'nginx')
    log_format = re.search(r"log_format\s+(\w+)\s+'([^;]*)';", config)
    assert log_format, 'no log_format: nginx logs $request, query string and all'
    assert not re.search(r'\$(request|request_uri|args|query_string|arg_\w+)\b', log_format.group(2))
    assert '$uri' in log_format.group(2)
    assert re.search(rf'access_log\s+\S+\s+{log_format.group(1)}\s*;', config)


def test_the_caddy_example_deletes_the_client_id_and_a_set_password_token_from_the_logged_uri():
    config = example('Behind HTTPS', '')
    deleted = re.search(r'request>uri\s+query\s*\{([^}]*)\}', config)
    assert deleted and set(re.findall(r'delete\s+(\w+)', deleted.group(1))) == {'client_id', 'token'}
