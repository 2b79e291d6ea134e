"""kiosk/audit.py: the staff audit log, append-only, with times, actions and counts and nothing personal."""

from kiosk.audit import AuditLog


def test_audit_log_appends_time_action_and_count_only(tmp_path):
    audit = AuditLog(tmp_path)
    audit.record('unlock')
    audit.record('export_download', 12)
    first_line = audit.path.read_text().splitlines()[0]
    audit.record('mark_pulled', 12)
    assert audit.path.read_text().splitlines()[0] == first_line  # appended, never rewritten
    assert [(entry['action'], entry['count']) for entry in audit.last()] == \
        [('mark_pulled', 12), ('export_download', 12), ('unlock', None)]
    assert set(audit.last()[0]) == {'time', 'action', 'count'}
    assert audit.path.stat().st_mode & 0o777 == 0o600


def test_a_torn_last_audit_line_is_skipped(tmp_path):
    audit = AuditLog(tmp_path)
    audit.record('unlock')
    with audit.path.open('a') as file:
        file.write('{"time": "2026-11-2')
    assert [entry['action'] for entry in audit.last()] == ['unlock']
