-- depends: 0003.rate
-- Failed sign-ins, counted in the database so every hub process behind a balancer throttles alike: one row per
-- failure, by client address and by the account's email (known or not, so a lock tells nothing). They decay:
-- only the rows of the window count, and older ones are swept nightly. This replaces the per-user counter.
CREATE TABLE login_failures (
    seq    bigserial PRIMARY KEY,
    scope  text NOT NULL CHECK (scope IN ('client', 'account')),
    key    text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_by_key ON login_failures (scope, key, at);
ALTER TABLE users DROP COLUMN failures, DROP COLUMN locked_until,
    ADD COLUMN disabled_at timestamptz;
