"""deploy/install.sh into a prefix: every file it writes, with owner and mode, the units, and a safe re-run."""

from __future__ import annotations

import json
import mmap
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from kiosk.appliance.chromium import CHROMIUM_FLAGS
from tests.support.tools import unavailable

CHECKOUT = Path(__file__).resolve().parents[2]
WHEELS = CHECKOUT / '.venv' / 'wheels'  # the build backend, fetched by `make test`: the install runs offline


OFFLINE = f'--no-index --find-links {WHEELS} --no-deps'
# No PyPI: an index that does not answer, and none of this machine's pip configuration (its local wheels).
NO_PYPI = {'PIP_CONFIG_FILE': os.devnull, 'PIP_INDEX_URL': 'http://127.0.0.1:9/simple', 'PIP_RETRIES': '0',
           'PIP_TIMEOUT': '2'}


def install(prefix: Path, pip_args: str = OFFLINE, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    if not any(WHEELS.glob('setuptools-*.whl')):
        unavailable(f'no build wheels in {WHEELS}: run `make test`, which fetches them')
    base = {key: value for key, value in os.environ.items() if not (env and key.startswith('PIP_'))}
    return subprocess.run(['bash', str(CHECKOUT / 'deploy' / 'install.sh'), '--prefix', str(prefix),
                           '--pip-args', pip_args], capture_output=True, text=True, timeout=300, check=check,
                          env={**base, **env})


@pytest.fixture(scope='module')
def installed(tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp('root')
    install(prefix)
    return prefix


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


EXPECTED = {  # path under the prefix: mode
    'opt/kiosk': 0o755,
    'opt/kiosk/kiosk/app.py': 0o644,
    'opt/kiosk/assets/programs.toml': 0o644,
    'opt/kiosk/assets/static/sw.js': 0o644,
    'opt/kiosk/deploy/install.sh': 0o755,
    'opt/kiosk/pyproject.toml': 0o644,
    'opt/kiosk/.venv/bin/kiosk': 0o755,
    'etc/kiosk': 0o755,
    'etc/kiosk/kiosk.toml': 0o644,
    'etc/kiosk/kiosk.env': 0o600,
    'etc/systemd/system/kiosk.service': 0o644,
    'etc/systemd/system/kiosk-browser.service': 0o644,
    'etc/chromium/policies/managed/kiosk.json': 0o644,
    'usr/local/bin/kiosk': 0o755,
}


def test_installer_writes_every_file_with_its_owner_and_mode(installed):
    for relative, expected_mode in EXPECTED.items():
        path = installed / relative
        assert path.exists(), relative
        assert mode(path) == expected_mode, f'{relative}: {mode(path):o}'
        if os.geteuid() == 0:
            assert (path.stat().st_uid, path.stat().st_gid) == (0, 0), relative
    assert list(installed.glob('opt/kiosk/kiosk/__pycache__/app.*.pyc')), 'bytecode compiled: the service cannot'
    assert not (installed / 'opt/kiosk/.staging').exists()
    assert not (installed / 'var').exists() and not (installed / 'opt/kiosk/var').exists(), 'no data in the tree'
    # The venv runs the installed tree, not the checkout it came from.
    site = next(installed.glob('opt/kiosk/.venv/lib/python*/site-packages'))
    finder = ''.join(path.read_text() for path in site.glob('__editable__*kiosk*'))
    assert str(installed / 'opt/kiosk') in finder and str(CHECKOUT) not in finder
    # It was built in opt/kiosk.new and swapped in: nothing in it names the build place.
    assert not (installed / 'opt/kiosk.new').exists() and not (installed / 'opt/kiosk.old').exists()
    named = subprocess.run(['grep', '-rlIF', str(installed / 'opt/kiosk.new'), str(installed / 'opt/kiosk')],
                           capture_output=True, text=True).stdout
    assert named == ''
    script = (installed / 'opt/kiosk/.venv/bin/kiosk').read_text().splitlines()[0]
    assert script == f'#!{installed}/opt/kiosk/.venv/bin/python'
    import_path = subprocess.run([str(installed / 'opt/kiosk/.venv/bin/python'), '-c',
                                  'import kiosk.paths; print(kiosk.paths.__file__)'], capture_output=True, text=True,
                                 cwd=installed)
    assert import_path.stdout.strip() == str(installed / 'opt/kiosk/kiosk/paths.py'), import_path.stderr


def test_units_run_the_installed_app_as_the_kiosk_user_with_the_config_and_secrets(installed):
    server = (installed / 'etc/systemd/system/kiosk.service').read_text()
    for line in ('Type=notify', 'User=kiosk', 'ExecStart=/opt/kiosk/.venv/bin/kiosk run', 'StateDirectory=kiosk',
                 'EnvironmentFile=-/etc/kiosk/kiosk.env', 'Environment=KIOSK_CONFIG=/etc/kiosk/kiosk.toml',
                 'WatchdogSec=30', 'Restart=always', 'UMask=0077', 'ProtectSystem=strict', 'LockPersonality=true',
                 'SystemCallFilter=@system-service', 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'):
        assert line in server.splitlines(), line
    assert any(line.startswith('MemoryMax=') for line in server.splitlines())
    screen = (installed / 'etc/systemd/system/kiosk-browser.service').read_text().splitlines()
    for line in ('TTYPath=/dev/tty1', 'Restart=always', 'After=kiosk.service systemd-user-sessions'
                 '.service plymouth-quit-wait.service getty@tty1.service', 'Wants=kiosk.service',
                 'ExecStart=/usr/bin/cage $CAGE_ARGS -- /opt/kiosk/.venv/bin/kiosk browser '
                 '--config /run/kiosk-browser/screen.toml',
                 'ExecStartPre=+/opt/kiosk/.venv/bin/kiosk browser --prepare --config /etc/kiosk/kiosk.toml',
                 'RuntimeDirectory=kiosk-browser', 'RuntimeDirectoryPreserve=restart'):
        assert line in screen, line
    assert 'EnvironmentFile=-/etc/kiosk/kiosk.env' not in screen, 'the browser never sees the sync token'
    # Short of memory, the kernel stops the browser (back in 2 s), never the server that holds the sign-ups.
    assert 'MemoryMax=1200M' in screen and 'OOMScoreAdjust=500' in screen
    assert 'OOMScoreAdjust=-500' in server.splitlines()


def test_the_screen_runs_as_its_own_user_who_cannot_reach_the_data_or_the_settings(installed):
    screen = (installed / 'etc/systemd/system/kiosk-browser.service').read_text().splitlines()
    assert 'User=kiosk-screen' in screen and 'Group=kiosk-screen' in screen
    assert 'InaccessiblePaths=-/var/lib/kiosk -/etc/kiosk' in screen
    assert not any(line.startswith('Environment=KIOSK_CONFIG=/etc/kiosk') for line in screen)
    assert 'Environment=HOME=/run/kiosk-browser XDG_CONFIG_HOME=/run/kiosk-browser XDG_CACHE_HOME=/run/kiosk-browser' \
        in screen, 'nothing of the browser outside its tmpfs'
    server = (installed / 'etc/systemd/system/kiosk.service').read_text().splitlines()
    assert 'User=kiosk' in server and not any(line.startswith('SupplementaryGroups=') for line in server)


def test_the_accounts_keep_the_screen_and_the_data_apart(tmp_path):
    """deploy/accounts.sh, run for real on a copy of /etc (a private mount namespace), over an older install
    that had put kiosk in the video and input groups; run twice, as an upgrade does."""
    if os.geteuid() != 0 or not shutil.which('unshare'):
        unavailable('creating users needs root and unshare (util-linux)')
    etc = tmp_path / 'etc'
    subprocess.run(['cp', '-a', '/etc', str(etc)], check=True)
    (tmp_path / 'log').mkdir()
    script = f"""set -e
mount --bind {etc} /etc
mount --bind {tmp_path / 'log'} /var/log
for group in video render input; do getent group $group >/dev/null || groupadd --system $group; done
id kiosk >/dev/null 2>&1 || useradd --system --user-group --no-create-home kiosk
usermod -a -G video,input kiosk
bash {CHECKOUT / 'deploy' / 'accounts.sh'}
bash {CHECKOUT / 'deploy' / 'accounts.sh'}
echo "kiosk: $(id -nG kiosk)"
echo "kiosk-screen: $(id -nG kiosk-screen)"
getent passwd kiosk-screen
"""
    result = subprocess.run(['unshare', '-m', '--propagation', 'private', 'bash', '-c', script],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    said = dict(line.split(': ', 1) for line in result.stdout.splitlines()
                if line.startswith(('kiosk: ', 'kiosk-screen: ')))
    assert said['kiosk'].split() == ['kiosk'], 'the server is in no display or input group'
    assert sorted(said['kiosk-screen'].split()) == ['input', 'kiosk-screen', 'render', 'video']
    home, shell = result.stdout.splitlines()[-1].split(':')[5:7]
    assert home == '/run/kiosk-browser' and shell == '/usr/sbin/nologin'
    assert '==> system user kiosk-screen' in result.stdout
    assert 'kiosk-screen' not in Path('/etc/passwd').read_text(), 'the real /etc was never touched'


@pytest.mark.needs_tool('systemd-analyze', 'systemd')
def test_systemd_analyze_verify_finds_nothing_wrong_with_the_units(installed):
    units = [installed / 'etc/systemd/system/kiosk.service', installed / 'etc/systemd/system/kiosk-browser.service',
             installed / 'opt/kiosk/deploy/kiosk-hub.service']
    result = subprocess.run(['systemd-analyze', 'verify', *map(str, units)], capture_output=True, text=True)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    # The units name /opt/kiosk, which a prefix install does not create: that is the only complaint allowed.
    allowed = 'Command /opt/kiosk/.venv/bin/kiosk is not executable'
    if not shutil.which('cage'):
        allowed = ('Command /opt/kiosk/.venv/bin/kiosk is not executable', 'Command /usr/bin/cage is not executable')
    assert [line for line in complaints if not any(ok in line for ok in allowed)] == []


@pytest.mark.needs_tool('systemd-analyze', 'systemd')
def test_systemd_security_exposure_stays_low(installed):
    result = subprocess.run(['systemd-analyze', 'security', '--offline=true', '--no-pager',
                             str(installed / 'etc/systemd/system/kiosk.service')], capture_output=True, text=True)
    (verdict,) = [line for line in result.stdout.splitlines() if 'Overall exposure level' in line]
    assert float(verdict.split(':')[1].split()[0]) <= 2.0, verdict


def test_chromium_policy_locks_the_browser_to_the_kiosk(installed):
    policy = json.loads((installed / 'etc/chromium/policies/managed/kiosk.json').read_text())
    assert policy['URLBlocklist'] == ['*']
    assert policy['URLAllowlist'] == ['http://127.0.0.1', 'http://localhost']
    assert policy['PasswordManagerEnabled'] is False
    assert policy['AutofillAddressEnabled'] is False and policy['AutofillCreditCardEnabled'] is False
    assert policy['TranslateEnabled'] is False
    assert policy['DeveloperToolsAvailability'] == 2
    assert policy['DownloadDirectory'] == '/media/kiosk-export' and policy['PromptForDownloadLocation'] is False


def test_chromium_policy_closes_the_other_ways_out(installed):
    """New windows and tabs, pop-ups, search, printing, file dialogs, guest and incognito windows, extensions."""
    policy = json.loads((installed / 'etc/chromium/policies/managed/kiosk.json').read_text())
    assert policy['PrintingEnabled'] is False  # Ctrl+P
    assert policy['AllowFileSelectionDialogs'] is False  # Ctrl+O, Ctrl+S
    assert policy['IncognitoModeAvailability'] == 1 and policy['BrowserGuestModeEnabled'] is False  # Ctrl+Shift+N
    assert policy['DefaultPopupsSetting'] == 2  # window.open and target=_blank windows
    assert policy['DefaultSearchProviderEnabled'] is False  # "Search Google for ..." in a long press's menu
    assert policy['QRCodeGeneratorEnabled'] is False and policy['LensRegionSearchEnabled'] is False
    assert policy['ExtensionInstallBlocklist'] == ['*'] and policy['SavingBrowserHistoryDisabled'] is True
    assert policy['BookmarkBarEnabled'] is False and policy['EditBookmarksEnabled'] is False


def test_every_policy_name_is_one_chromium_knows():
    """A misspelt policy is silently ignored: each name must appear in Chromium's own binary."""
    binary = next((path for path in (Path('/usr/lib/chromium/chromium'), Path('/usr/lib/chromium-browser/chromium'))
                   if path.exists()), None)
    if binary is None:
        unavailable('Chromium is not installed (apt-get install chromium)', 'KIOSK_REQUIRE_BROWSER')
    policy = json.loads((CHECKOUT / 'deploy' / 'chromium-policy.json').read_text())
    with binary.open('rb') as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as text:
        unknown = [name for name in policy if text.find(b'\0' + name.encode() + b'\0') < 0]
    assert unknown == []


def test_chromium_flags_are_the_kiosk_set():
    for flag in ('--kiosk', '--no-first-run', '--noerrdialogs', '--hide-crash-restore-bubble', '--disable-pinch',
                 '--overscroll-history-navigation=0', '--disable-background-networking',
                 '--disable-component-update', '--password-store=basic'):
        assert flag in CHROMIUM_FLAGS
    assert '--disable-session-crashed-bubble' not in CHROMIUM_FLAGS  # gone from Chromium


# Upgrades of the module's installation, last: the tests above read it as first installed (and each upgrade
# keeps what they check true), so no upgrade pays for an installation of its own first.
def test_an_upgrade_needs_no_index_when_no_dependency_is_new(installed):
    result = install(installed, '--no-deps', check=False, **NO_PYPI)
    assert result.returncode == 0, result.stderr


def test_a_failed_upgrade_leaves_the_previous_release_in_place_and_says_so(installed):
    previous = installed / 'opt/kiosk/kiosk/only_in_the_previous_release.py'
    previous.write_text('')
    # Without --no-deps, pip needs the app's dependencies, which neither the wheels folder nor an index has.
    result = install(installed, f'--no-index --find-links {WHEELS}', check=False)
    assert result.returncode != 0
    assert 'the previous release in' in result.stderr and 'is untouched' in result.stderr, result.stderr
    assert previous.exists() and (installed / 'opt/kiosk/.venv/bin/kiosk').exists()
    assert not (installed / 'opt/kiosk.new').exists(), 'the half-built release is cleared away'
    assert install(installed).returncode == 0 and not previous.exists(), 'and the next attempt goes through'


def test_running_it_again_upgrades_in_place_and_keeps_config_and_data(installed):
    config = installed / 'etc/kiosk/kiosk.toml'
    secrets = installed / 'etc/kiosk/kiosk.env'
    config.write_text('data_dir = "/var/lib/kiosk"\nkiosk_id = "lobby-1"\n')
    secrets.write_text('KIOSK_SYNC_TOKEN=s3cret\n')
    stale = installed / 'opt/kiosk/kiosk/removed_in_this_release.py'
    stale.write_text('')
    install(installed)
    assert config.read_text() == 'data_dir = "/var/lib/kiosk"\nkiosk_id = "lobby-1"\n'
    assert secrets.read_text() == 'KIOSK_SYNC_TOKEN=s3cret\n' and mode(secrets) == 0o600
    assert not stale.exists(), 'an upgrade replaces the app, not merges into it'
    assert (installed / 'opt/kiosk/kiosk/app.py').exists()
