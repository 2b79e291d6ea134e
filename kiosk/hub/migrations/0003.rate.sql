-- depends: 0002.sessions
-- Each kiosk's requests of the last minute, counted in the database so that every hub process behind a
-- balancer enforces one RATE_PER_MINUTE. Older rows are swept nightly.
CREATE TABLE rate_requests (
    kiosk  text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_requests_by_kiosk ON rate_requests (kiosk, at);
