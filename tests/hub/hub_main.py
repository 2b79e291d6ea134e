"""Entry file for NiceGUI's user simulation of the hub's screens: the real hub app, from the test's KIOSK_HUB_* env."""

from kiosk.hub.app import serve
from kiosk.hub.config import load_hub_settings

serve(load_hub_settings())
