"""SLMPD community-programs kiosk."""

from functools import cache


@cache
def version() -> str:
    """The installed version; read on first use, as importlib.metadata costs a start-up ~20 ms."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed('kiosk')
    except PackageNotFoundError:  # running from a checkout that was never installed
        return '0.0.0'
