"""The machinery the tests and `make bench` share: free ports, real kiosk and hub processes, the sync receiver,
the fault proxy, the fleet simulator. Fixtures stay in the conftest.py files; what they wrap lives here."""
