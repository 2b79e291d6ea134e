"""What only the kiosk box needs: systemd's notify and watchdog, the Chromium launcher, and `kiosk doctor`."""
