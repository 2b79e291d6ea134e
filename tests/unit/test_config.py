import subprocess
import sys

import pytest

from kiosk.config import ConfigError, load_settings


def test_defaults_bind_to_loopback_on_8080():
    settings = load_settings()
    assert (settings.host, settings.port, settings.idle_seconds, settings.language) == ('127.0.0.1', 8080, 90, 'en')


def test_precedence_is_flag_over_env_over_toml(tmp_path, monkeypatch):
    config = tmp_path / 'kiosk.toml'
    config.write_text('port = 7000\nidle_seconds = 45\nlanguage = "es"\n')
    monkeypatch.setenv('KIOSK_CONFIG', str(config))
    monkeypatch.setenv('KIOSK_PORT', '7100')
    settings = load_settings(port=7200)
    assert (settings.port, settings.idle_seconds, settings.language) == (7200, 45, 'es')
    assert load_settings().port == 7100


def test_bad_value_names_the_key(monkeypatch):
    monkeypatch.setenv('KIOSK_IDLE_SECONDS', 'soon')
    with pytest.raises(ConfigError, match=r'^idle_seconds \(KIOSK_IDLE_SECONDS\): '):
        load_settings()


def test_unknown_key_in_config_file_is_named(tmp_path):
    config = tmp_path / 'kiosk.toml'
    config.write_text('prot = 80\n')
    with pytest.raises(ConfigError, match=r'prot \(KIOSK_PROT\): not a known setting'):
        load_settings(config=config)


def test_missing_config_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match='file not found'):
        load_settings(config=tmp_path / 'nope.toml')


def test_cli_bad_setting_exits_nonzero_with_one_line_and_no_traceback(monkeypatch):
    monkeypatch.setenv('KIOSK_PORT', 'eighty')
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'run'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'kiosk: port (KIOSK_PORT): Input should be a valid integer, unable to parse string as an integer']


@pytest.mark.parametrize(('columns', 'problem'), [
    ('12', 'greater than or equal to 24'), ('200', 'less than or equal to 64'), ('wide', 'valid integer')])
def test_kiosk_check_refuses_printer_columns_no_paper_has(monkeypatch, columns, problem):
    assert load_settings().printer_columns == 42
    monkeypatch.setenv('KIOSK_PRINTER_COLUMNS', '32')
    assert load_settings().printer_columns == 32  # 58 mm paper
    monkeypatch.setenv('KIOSK_PRINTER_COLUMNS', columns)
    result = subprocess.run([sys.executable, '-m', 'kiosk', 'check'], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    assert result.stderr.startswith('kiosk: printer_columns (KIOSK_PRINTER_COLUMNS): ') and problem in result.stderr
