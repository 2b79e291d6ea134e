"""The signed content bundle: what a kiosk refuses, and why, before anything touches its disk."""

import hashlib
import io
import json
import shutil
import subprocess
import tarfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.bundle import (
    MANIFEST,
    PROGRAMS,
    SIGNATURE,
    BundleError,
    build,
    open_bundle,
    parse_public_key,
    public_key_text,
)
from kiosk.paths import ASSETS_DIR
from tests.support.tools import unavailable

SHIPPED = (ASSETS_DIR / 'programs.toml').read_bytes()
KEY = Ed25519PrivateKey.generate()
TRUSTED = parse_public_key(public_key_text(KEY))


def members(bundle: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        return {info.name: tar.extractfile(info).read() for info in tar}


def retar(files: dict[str, bytes], kinds: dict[str, bytes] | None = None) -> bytes:
    """A tar of these members as plain files (and `kinds`: name -> tar type, for links)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode='w') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if kinds and name in kinds:
                info.type, info.linkname = kinds[name], '/etc/passwd'
                tar.addfile(info)
                continue
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_signed_bundle_opens_with_its_files_and_catalog():
    bundle = build({PROGRAMS: SHIPPED}, 3, KEY, targets=['lobby-1'])
    opened = open_bundle(bundle, TRUSTED, floor=2, kiosk_id='lobby-1')
    assert opened.manifest.version == 3 and opened.files == {PROGRAMS: SHIPPED}
    assert opened.catalog.program[0].slug == 'citizens-academy'
    assert opened.sha256 == hashlib.sha256(bundle).hexdigest()
    manifest = json.loads(members(bundle)[MANIFEST])
    assert manifest['files'][PROGRAMS] == {'sha256': hashlib.sha256(SHIPPED).hexdigest(), 'size': len(SHIPPED)}
    assert manifest['targets'] == ['lobby-1'] and manifest['activate_at'] is None


def test_a_tampered_file_is_refused():
    files = members(build({PROGRAMS: SHIPPED}, 1, KEY))
    files[PROGRAMS] = files[PROGRAMS].replace(b'(314) 444-5371', b'(314) 555-0199')
    with pytest.raises(BundleError, match=r'programs\.toml: its SHA-256 differs from the manifest'):
        open_bundle(retar(files), TRUSTED, floor=0, kiosk_id='lobby-1')


def test_a_tampered_manifest_is_refused():
    files = members(build({PROGRAMS: SHIPPED}, 1, KEY, targets=['lobby-2']))
    files[MANIFEST] = files[MANIFEST].replace(b'"lobby-2"', b'"lobby-1"')
    with pytest.raises(BundleError, match='the signature does not match'):
        open_bundle(retar(files), TRUSTED, floor=0, kiosk_id='lobby-1')


def test_another_publishers_key_is_refused():
    bundle = build({PROGRAMS: SHIPPED}, 1, Ed25519PrivateKey.generate())
    with pytest.raises(BundleError, match='the signature does not match the trusted key'):
        open_bundle(bundle, TRUSTED, floor=0, kiosk_id='lobby-1')


def test_a_replayed_older_version_is_refused():
    older = build({PROGRAMS: SHIPPED}, 4, KEY)
    with pytest.raises(BundleError, match='version 4 is not above 5'):
        open_bundle(older, TRUSTED, floor=5, kiosk_id='lobby-1')
    with pytest.raises(BundleError, match='version 5 is not above 5'):
        open_bundle(build({PROGRAMS: SHIPPED}, 5, KEY), TRUSTED, floor=5, kiosk_id='lobby-1')


def test_a_bundle_for_other_kiosks_is_refused():
    with pytest.raises(BundleError, match='not meant for this kiosk'):
        open_bundle(build({PROGRAMS: SHIPPED}, 1, KEY, targets=['lobby-2']), TRUSTED, floor=0, kiosk_id='lobby-1')


def test_checks_run_in_order_signature_first():
    """A replayed bundle from another key is refused for its signature: nothing unsigned is believed."""
    with pytest.raises(BundleError, match='signature'):
        open_bundle(build({PROGRAMS: SHIPPED}, 1, Ed25519PrivateKey.generate(), targets=['x']), TRUSTED, floor=9,
                    kiosk_id='lobby-1')


def test_content_that_fails_kiosk_check_is_refused_at_both_ends():
    broken = SHIPPED.replace(b'phone = "(314) 444-5371"', b'phone = "444-53"')
    with pytest.raises(Exception, match='not a phone number'):
        build({PROGRAMS: broken}, 1, KEY)
    files = members(build({PROGRAMS: SHIPPED}, 1, KEY))
    manifest = json.loads(files[MANIFEST])
    manifest['files'][PROGRAMS] = {'sha256': hashlib.sha256(broken).hexdigest(), 'size': len(broken)}
    files[MANIFEST] = json.dumps(manifest).encode()
    files[SIGNATURE] = KEY.sign(files[MANIFEST])
    files[PROGRAMS] = broken
    with pytest.raises(BundleError, match=r'does not pass `kiosk check`: .*program 3 \(hmca\): phone: not a phone'):
        open_bundle(retar(files), TRUSTED, floor=0, kiosk_id='lobby-1')


@pytest.mark.parametrize('name', ['/etc/cron.d/evil', '../evil', 'a/../../evil', 'a\\b', '.hidden'])
def test_members_with_unsafe_names_are_refused(name):
    files = members(build({PROGRAMS: SHIPPED}, 1, KEY))
    files[name] = b'x'
    with pytest.raises(BundleError, match='not an allowed file name'):
        open_bundle(retar(files), TRUSTED, floor=0, kiosk_id='lobby-1')


@pytest.mark.parametrize('kind', [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_links_are_refused(kind):
    files = {**members(build({PROGRAMS: SHIPPED}, 1, KEY)), 'logo.svg': b''}
    with pytest.raises(BundleError, match='only plain files'):
        open_bundle(retar(files, {'logo.svg': kind}), TRUSTED, floor=0, kiosk_id='lobby-1')


def test_a_file_the_manifest_does_not_list_is_refused():
    files = {**members(build({PROGRAMS: SHIPPED}, 1, KEY)), 'extra.txt': b'hello'}
    with pytest.raises(BundleError, match=r"unlisted: \['extra\.txt'\]"):
        open_bundle(retar(files), TRUSTED, floor=0, kiosk_id='lobby-1')


def test_not_a_tar_is_refused():
    with pytest.raises(BundleError, match='not a readable tar file'):
        open_bundle(b'\x00garbage' * 200, TRUSTED, floor=0, kiosk_id='lobby-1')


def test_the_system_tar_reads_the_bundle_as_plain_files(tmp_path):
    """An independent reader: GNU tar lists the three members as regular files, and extracts them intact."""
    tar = shutil.which('tar') or unavailable('tar is not installed (apt-get install tar)')
    path = tmp_path / 'content-1.tar'
    path.write_bytes(build({PROGRAMS: SHIPPED}, 1, KEY))
    listing = subprocess.run([tar, '-tvf', str(path)], capture_output=True, text=True, check=True).stdout
    lines = listing.splitlines()
    assert [line.split()[-1] for line in lines] == [MANIFEST, SIGNATURE, PROGRAMS]
    assert all(line.startswith('-rw-r--r--') for line in lines), listing
    subprocess.run([tar, '-xf', str(path), '-C', str(tmp_path)], check=True)
    assert (tmp_path / PROGRAMS).read_bytes() == SHIPPED


def test_a_public_key_that_is_not_one_is_refused():
    with pytest.raises(BundleError, match='not an Ed25519 public key'):
        parse_public_key('hello')
