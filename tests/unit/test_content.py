import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.content import ContentError, load_catalog
from kiosk.paths import ASSETS_DIR

SHIPPED = ASSETS_DIR / 'programs.toml'


def test_shipped_programs_are_the_five_in_order():
    catalog = load_catalog(SHIPPED)
    assert [p.slug for p in catalog.program] == ['citizens-academy', 'police-explorers', 'hmca', 'pal', 'outreach']
    assert [p.en.title for p in catalog.program][2] == 'Homicide Ministers and Community Alliance (HMCA)'


def test_shipped_facts_from_the_department():
    programs = load_catalog(SHIPPED).by_slug
    assert programs['hmca'].phone == '+13144445371' and programs['hmca'].call_first
    assert not programs['hmca'].count_views
    assert programs['pal'].phone == '+13144445967' and (programs['pal'].age.min, programs['pal'].age.max) == (5, 18)
    assert programs['police-explorers'].phone == '+13144445463'
    assert (programs['police-explorers'].age.min, programs['police-explorers'].age.max) == (14, 20)
    assert str(programs['citizens-academy'].url) == 'http://www.slmpd.org/citizens_academy.shtml'
    assert programs['outreach'].meetings.day == '2nd thu'


def test_every_program_has_spanish_text():
    for program in load_catalog(SHIPPED).program:
        assert program.es.title and program.es.summary and program.es.body
        assert len(program.es.facts) == len(program.en.facts)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text()
    assert old in text
    path = tmp_path / 'programs.toml'
    path.write_text(text.replace(old, new, 1))
    return path


def test_bad_phone_names_file_program_and_field(tmp_path):
    path = _broken(tmp_path, 'phone = "(314) 444-5371"', 'phone = "444-53"')
    with pytest.raises(ContentError) as error:
        load_catalog(path)
    assert error.value.problems == [f'{path}: program 3 (hmca): phone: not a phone number']


def test_every_problem_is_reported(tmp_path):
    path = _broken(tmp_path, 'url = "http://www.slmpd.org/pal.shtml"', 'url = "slmpd dot org"')
    path.write_text(path.read_text().replace('title = "Reuniones Comunitarias"\n', '', 1))
    with pytest.raises(ContentError) as error:
        load_catalog(path)
    assert [line.split(': ', 1)[1] for line in error.value.problems] == [
        'program 4 (pal): url: Input should be a valid URL, relative URL without a base',
        'program 5 (outreach): es.title: Field required',
    ]


def test_bad_meeting_rule_is_refused(tmp_path):
    path = _broken(tmp_path, 'day = "2nd thu"', 'day = "second thursday"')
    with pytest.raises(ContentError, match=r'program 5 \(outreach\): meetings: .*not a valid schedule'):
        load_catalog(path)


def test_duplicate_slug_is_refused(tmp_path):
    path = _broken(tmp_path, 'slug = "pal"', 'slug = "hmca"')
    with pytest.raises(ContentError, match='duplicate slug: hmca'):
        load_catalog(path)


def test_kiosk_check_prints_problem_and_fails(tmp_path, monkeypatch):
    monkeypatch.setenv('KIOSK_CONTENT', str(_broken(tmp_path, 'phone = "(314) 444-5371"', 'phone = "12"')))
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'check'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert 'program 3 (hmca): phone: not a phone number' in result.stderr
    assert 'Traceback' not in result.stderr


def test_kiosk_check_passes_on_shipped_content():
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'check'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '5 programs OK' in result.stdout


def test_kiosk_run_refuses_bad_content_without_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv('KIOSK_CONTENT', str(_broken(tmp_path, 'slug = "pal"', 'slug = "P A L"')))
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'run', '--port', '1'], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert 'program 4 (P A L): slug: String should match pattern' in result.stderr
    assert 'Traceback' not in result.stderr
