"""Where the kiosk's shipped files live: the checkout's `assets/` folder next to the package."""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / 'assets'
