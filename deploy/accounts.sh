#!/usr/bin/env bash
# The kiosk's two system users, made by deploy/install.sh (safe to run again):
#   kiosk         the server: owns /var/lib/kiosk (the sign-ups); no display or input devices
#   kiosk-screen  cage and Chromium: the display and the touch panel, and no access to the data
# An older install put kiosk in the video, render and input groups: it is taken out of them here.
set -euo pipefail

for user in kiosk:/var/lib/kiosk kiosk-screen:/run/kiosk-browser; do
  name=${user%%:*}
  if ! id "$name" >/dev/null 2>&1; then
    echo "==> system user $name"
    useradd --system --user-group --home-dir "${user#*:}" --no-create-home --shell /usr/sbin/nologin "$name"
  fi
done
for group in video render input; do
  if getent group "$group" >/dev/null; then
    usermod -a -G "$group" kiosk-screen
    if id -nG kiosk | tr ' ' '\n' | grep -qx "$group"; then
      gpasswd -d kiosk "$group" >/dev/null
    fi
  fi
done
