#!/usr/bin/env bash
# Turns a bare Debian 12/13 or Raspberry Pi OS Bookworm box into the kiosk appliance, or upgrades one in
# place. Safe to run again: sign-ups, the PIN, the lockout, sync state and /etc/kiosk are kept.
#
#   sudo deploy/install.sh                  install or upgrade this machine
#   deploy/install.sh --prefix DIR          write the same tree under DIR (no packages, user or enabling)
#   ... --pip-args "--no-index --find-links /media/usb/wheels"   install Python packages offline
set -Eeuo pipefail

usage() { sed -n '2,8s/^# \{0,1\}//p' "$0"; }

prefix=""
pip_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --pip-args) pip_args="${2?--pip-args needs a value}"; shift 2 ;;
    --pip-args=*) pip_args="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

source_dir=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "$prefix" ]; then
  mkdir -p "$prefix"
  root=$(cd "$prefix" && pwd)
else
  root=""
  if [ "$(id -u)" != 0 ]; then
    echo "install.sh: run it as root: sudo deploy/install.sh" >&2
    exit 1
  fi
fi
app="$root/opt/kiosk"
etc="$root/etc/kiosk"
units="$root/etc/systemd/system"
policies="$root/etc/chromium/policies/managed"
say() { printf '==> %s\n' "$*"; }

# Owned by root where we can (a real install, or a test as root); a prefix written by a user stays theirs.
own() { if [ "$(id -u)" = 0 ]; then chown "$@"; fi; }
place() {  # place MODE SOURCE TARGET: copy a file with its mode, owned by root
  install -m "$1" "$2" "$3"
  own root:root "$3"
}

if [ -z "$prefix" ]; then
  # cage 0.1.4 is built with XWayland: without the Xwayland binary it never starts its app.
  say "Debian packages: python3-venv, chromium, cage, xwayland, espeak-ng"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-venv chromium cage xwayland espeak-ng fonts-dejavu-core \
    >/dev/null
  bash "$source_dir/deploy/accounts.sh"
fi

# The new release is built beside the old one and swapped in only once it is complete, so a failure at any
# step (no network for a new dependency, a full disk) leaves the previous release in place, still running.
new="$app.new"
old="$app.old"
if [ ! -e "$app" ] && [ -e "$old" ]; then mv "$old" "$app"; fi  # a swap cut short by a power cut
rm -rf "$new" "$old"
failed() {
  rm -rf "$new"
  if [ -e "$app/kiosk" ]; then
    echo "install.sh: FAILED while building the new release; nothing was changed: the previous release in" \
         "$app is untouched (and still running). Fix the problem above and run the installer again." >&2
  else
    echo "install.sh: FAILED while building the app; nothing was installed in $app." \
         "Fix the problem above and run the installer again." >&2
  fi
}
trap failed ERR

say "the new release in $new"
install -d -m 0755 "$new"
tar -C "$source_dir" --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' \
  -cf - kiosk assets deploy pyproject.toml README.md kiosk.service | tar -C "$new" --no-same-owner -xf -
chmod -R u=rwX,go=rX "$new"

say "Python environment (the installed packages are kept: only new dependencies need the network)"
if "$app/.venv/bin/python" -c '' 2>/dev/null; then
  cp -a "$app/.venv" "$new/.venv"
else  # a first install, or its Python went away in an OS upgrade
  python3 -m venv "$new/.venv"
fi
pip=("$new/.venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# The build backend lives in the venv and the app is built without isolation, so pip does not fetch
# setuptools from an index at every upgrade.
# shellcheck disable=SC2086  # pip_args is a list of options
"${pip[@]}" $pip_args 'setuptools>=68' wheel
# shellcheck disable=SC2086
"${pip[@]}" --no-build-isolation $pip_args -e "$new"
rm -rf "$new/build" "$new"/*.egg-info
# The venv was made at $new: its scripts and the editable finder name that path. Point them at $app.
{ grep -rlIF -- "$new" "$new/.venv" || true; } | while IFS= read -r file; do sed -i "s|$new|$app|g" "$file"; done
# The kiosk user cannot write bytecode under /opt: compile it now, or every start on a Pi compiles again.
"$new/.venv/bin/python" -m compileall -q -d "$app/kiosk" "$new/kiosk"
own -R root:root "$new"

say "the app in $app"
if [ -e "$app" ]; then mv "$app" "$old"; fi
mv "$new" "$app"
trap - ERR
rm -rf "$old"

say "settings in $etc (kept if already there)"
install -d -m 0755 "$etc"
own root:root "$etc"
if [ ! -e "$etc/kiosk.toml" ]; then place 0644 "$source_dir/deploy/kiosk.toml" "$etc/kiosk.toml"; fi
if [ ! -e "$etc/kiosk.env" ]; then place 0600 "$source_dir/deploy/kiosk.env" "$etc/kiosk.env"; fi

say "systemd units, Chromium policy and the kiosk command"
install -d -m 0755 "$units" "$policies" "$root/usr/local/bin"
place 0644 "$source_dir/kiosk.service" "$units/kiosk.service"
place 0644 "$source_dir/deploy/kiosk-browser.service" "$units/kiosk-browser.service"
place 0644 "$source_dir/deploy/chromium-policy.json" "$policies/kiosk.json"
place 0755 "$source_dir/deploy/kiosk-command" "$root/usr/local/bin/kiosk"

if [ -n "$prefix" ]; then
  say "done: the tree is under $root (no packages, user or units were touched)"
  exit 0
fi

# The data directory exists before the first start, so `sudo kiosk set-pin` works straight away. Only
# kiosk can enter it: the screen's user, kiosk-screen, cannot.
install -d -m 0700 -o kiosk -g kiosk /var/lib/kiosk
# Staff downloads land here: Chromium (kiosk-screen) writes them, the server (kiosk) saves and clears them.
install -d -m 0770 -o kiosk -g kiosk-screen /media/kiosk-export

say "enabling the units"
systemctl daemon-reload
systemctl enable kiosk.service kiosk-browser.service
# The screen runs on tty1 at boot, instead of a desktop's display manager.
if systemctl list-unit-files display-manager.service >/dev/null 2>&1 \
    && systemctl is-enabled display-manager.service >/dev/null 2>&1; then
  say "disabling the desktop's display manager: the kiosk's screen takes tty1"
  systemctl disable display-manager.service
fi
systemctl set-default graphical.target
systemctl restart kiosk.service
systemctl restart kiosk-browser.service

cat <<'DONE'
==> installed. Next:
    sudo kiosk set-pin                               the staff PIN
    sudoedit /etc/kiosk/kiosk.toml /etc/kiosk/kiosk.env   kiosk_id, sync_url, KIOSK_SYNC_TOKEN
    sudo systemctl restart kiosk && sudo kiosk doctor
DONE
