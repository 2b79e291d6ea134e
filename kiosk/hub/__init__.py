"""`kiosk hub`: the department's side. It receives every kiosk's sign-ups into PostgreSQL."""
