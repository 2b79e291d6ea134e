-- depends: 0001.initial
-- Signed-in sessions live in the database, not in one hub process, so several hubs can share the load.
-- Only a SHA-256 of the cookie's value is kept.
CREATE TABLE sessions (
    id_sha256   bytea PRIMARY KEY,
    email       text NOT NULL REFERENCES users (email) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_by_email ON sessions (email);
