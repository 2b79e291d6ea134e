-- The hub's first schema: kiosks and their tokens, sign-ups exactly as received, the people who work them,
-- and an audit log nobody can rewrite.

CREATE TABLE kiosks (
    name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Only a SHA-256 of each token is kept. A rotated-out token keeps working until expires_at.
CREATE TABLE kiosk_tokens (
    token_sha256  bytea PRIMARY KEY,
    kiosk         text NOT NULL REFERENCES kiosks (name),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz
);
CREATE INDEX kiosk_tokens_by_kiosk ON kiosk_tokens (kiosk);

CREATE TABLE signups (
    id                uuid PRIMARY KEY,
    kiosk             text NOT NULL,
    program           text NOT NULL,
    created_at        timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    name              text NOT NULL,
    participant_name  text NOT NULL,
    phone             text NOT NULL,
    email             text NOT NULL,
    contact_method    text NOT NULL,
    age               integer,
    note              text NOT NULL,
    language          text NOT NULL,
    body              jsonb NOT NULL,  -- the record as the kiosk sent it: a later copy must match it exactly
    status            text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'enrolled', 'declined')),
    status_changed_at timestamptz
);
CREATE INDEX signups_newest ON signups (created_at DESC, id DESC);
CREATE INDEX signups_by_program ON signups (program, created_at DESC, id DESC);
CREATE INDEX signups_by_kiosk ON signups (kiosk, received_at DESC);
CREATE INDEX signups_closed ON signups (status_changed_at) WHERE status IN ('enrolled', 'declined');

-- The same id arrived with different content: kept aside for an admin, never written over the original.
CREATE TABLE signup_conflicts (
    seq          bigserial PRIMARY KEY,
    signup_id    uuid NOT NULL,
    kiosk        text NOT NULL,
    body         jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE status_changes (
    seq         bigserial PRIMARY KEY,
    signup_id   uuid NOT NULL REFERENCES signups (id) ON DELETE CASCADE,
    status      text NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    note        text NOT NULL DEFAULT ''
);

-- Per kiosk and key, for 24 hours: the same key and body replay the answer; another body is refused.
CREATE TABLE idempotency_keys (
    kiosk        text NOT NULL,
    key          text NOT NULL,
    body_sha256  bytea NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kiosk, key)
);

CREATE TABLE heartbeats (
    kiosk        text PRIMARY KEY REFERENCES kiosks (name),
    received_at  timestamptz NOT NULL,
    body         jsonb NOT NULL
);

CREATE TABLE users (
    email          text PRIMARY KEY CHECK (email = lower(email)),
    role           text NOT NULL CHECK (role IN ('admin', 'coordinator')),
    password_hash  text,
    failures       integer NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_programs (
    email    text NOT NULL REFERENCES users (email) ON DELETE CASCADE,
    program  text NOT NULL,
    PRIMARY KEY (email, program)
);

CREATE TABLE audit_log (
    seq     bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'
);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
