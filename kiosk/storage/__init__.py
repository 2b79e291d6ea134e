"""Durable on-disk storage: the sign-up store (store.py) and the atomic, fsync'd writes under it (atomic.py)."""
