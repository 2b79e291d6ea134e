#!/usr/bin/env bash
# Turns a bare Debian 12/13 or Raspberry Pi OS Bookworm box into the kiosk appliance, or upgrades one in
# place. Safe to run again: sign-ups, the PIN, the lockout, sync state and /etc/kiosk are kept.
#
#   sudo deploy/install.sh                  install or upgrade this machine
#   deploy/install.sh --prefix DIR          write the same tree under DIR (no packages, user or enabling)
#   ... --pip-args "--no-index --find-links /media/usb/wheels"   install Python packages offline
set -euo pipefail

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
  say "Debian packages: python3-venv, chromium, cage, espeak-ng"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-venv chromium cage espeak-ng fonts-dejavu-core >/dev/null

  if ! id kiosk >/dev/null 2>&1; then
    say "system user kiosk"
    useradd --system --user-group --home-dir /var/lib/kiosk --no-create-home --shell /usr/sbin/nologin kiosk
  fi
  # cage draws on the screen and reads the touch panel: it needs the display and input groups.
  for group in video render input; do
    if getent group "$group" >/dev/null; then usermod -a -G "$group" kiosk; fi
  done
fi

say "the app in $app"
install -d -m 0755 "$app"
own root:root "$app"
staging="$app/.staging"
rm -rf "$staging"
install -d -m 0755 "$staging"
tar -C "$source_dir" --exclude='__pycache__' --exclude='*.pyc' --exclude='*.egg-info' \
  -cf - kiosk assets deploy pyproject.toml README.md kiosk.service | tar -C "$staging" --no-same-owner -xf -
chmod -R u=rwX,go=rX "$staging"
own -R root:root "$staging"
# Swap in the new release piece by piece; the venv, and all data (in /var/lib/kiosk), stay where they are.
for item in kiosk assets deploy pyproject.toml README.md kiosk.service; do
  rm -rf "$app/$item.old"
  if [ -e "$app/$item" ]; then mv "$app/$item" "$app/$item.old"; fi
  mv "$staging/$item" "$app/$item"
  rm -rf "$app/$item.old"
done
rmdir "$staging"

say "Python environment in $app/.venv"
if ! "$app/.venv/bin/python" -c '' 2>/dev/null; then  # missing, or its Python went away in an OS upgrade
  rm -rf "$app/.venv"
  python3 -m venv "$app/.venv"
fi
# shellcheck disable=SC2086  # pip_args is a list of options
"$app/.venv/bin/pip" install --quiet --disable-pip-version-check $pip_args -e "$app"
# The kiosk user cannot write bytecode under /opt: compile it now, or every start on a Pi compiles again.
"$app/.venv/bin/python" -m compileall -q "$app/kiosk"
own -R root:root "$app/.venv"

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

# The data directory exists before the first start, so `sudo kiosk set-pin` works straight away.
install -d -m 0700 -o kiosk -g kiosk /var/lib/kiosk
install -d -m 0750 -o kiosk -g kiosk /media/kiosk-export

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
