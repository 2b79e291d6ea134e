"""The kiosk's screens. Each module renders state and calls the domain; none holds business rules."""
