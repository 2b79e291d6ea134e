"""What the hub's screens and API need, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from kiosk.hub.auth import SignIns
from kiosk.hub.config import HubSettings
from kiosk.hub.content import ProgramTitles
from kiosk.hub.ingest import Receiver


@dataclass(frozen=True)
class Hub:
    settings: HubSettings
    pool: AsyncConnectionPool
    receiver: Receiver
    sign_ins: SignIns
    programs: ProgramTitles  # refreshed as each screen opens (pages/frame.py)
