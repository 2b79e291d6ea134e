"""Entry file for NiceGUI's `user` fixture: the real kiosk app, configured from the KIOSK_* env of the test."""

from kiosk.app import serve
from kiosk.config import load_settings

serve(load_settings())
