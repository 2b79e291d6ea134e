"""Durable on-disk storage for sign-ups (arrives with the sign-up issue)."""
