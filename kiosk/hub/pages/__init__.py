"""The coordinators' screens: for a desk and a mouse, in the kiosk's colours."""
