"""sd_notify over $NOTIFY_SOCKET: tell systemd when the kiosk serves `/`, and keep its watchdog fed.

`Type=notify` makes "ready" mean "serving", so the browser unit starts only then. With `WatchdogSec=`,
systemd sets WATCHDOG_USEC; the pings come from a task on the event loop, so a blocked loop stops them
and systemd restarts the server. Outside systemd (no NOTIFY_SOCKET) every call here does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable

log = logging.getLogger('kiosk.appliance.systemd')


def notify(message: str) -> bool:
    """Send one datagram to systemd; False when not run by systemd or the socket is gone."""
    address = os.environ.get('NOTIFY_SOCKET')
    if not address:
        return False
    if address.startswith('@'):  # an abstract socket
        address = '\0' + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as error:
        log.warning('could not notify systemd: %s', error.strerror or error)
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of WatchdogSec in seconds, if systemd asked this very process for pings."""
    usec = os.environ.get('WATCHDOG_USEC')
    pid = os.environ.get('WATCHDOG_PID')
    if not usec or not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000 / 2


async def announce_ready(is_serving: Callable[[], Awaitable[bool]], retry_seconds: float = 0.2) -> None:
    """Wait until `is_serving()` says the page answers, then send READY=1 and keep the watchdog fed."""
    while not await is_serving():
        await asyncio.sleep(retry_seconds)
    notify('READY=1')
    log.info('serving; told systemd the kiosk is ready')
    if (interval := watchdog_interval()) is not None:
        await feed_watchdog(interval)


async def feed_watchdog(interval: float) -> None:
    """WATCHDOG=1 every `interval` seconds, for as long as the event loop keeps turning."""
    while True:
        notify('WATCHDOG=1')
        await asyncio.sleep(interval)
