-- depends: 0008.mail
-- Accounts city IT will accept: a second factor (TOTP), recovery codes, a sign-in's pending second step,
-- set-password links, and each user's last sign-in.
ALTER TABLE users
    -- The shared secret of the user's authenticator app (base32); NULL until they turn two-factor sign-in on.
    -- It must be readable to check a code, so it is as private as the database; it is never logged or shown again.
    ADD COLUMN totp_secret text,
    -- The last TOTP time-step accepted: a code is good once, even inside its window.
    ADD COLUMN totp_last_step bigint,
    ADD COLUMN last_sign_in_at timestamptz;

-- Ten per user, shown once; only a SHA-256 of each is kept (a code has 80 random bits, so a fast hash is
-- enough). A used code keeps its row, with when, so the screen can say how many are left.
CREATE TABLE recovery_codes (
    email        text NOT NULL REFERENCES users (email) ON DELETE CASCADE,
    code_sha256  bytea NOT NULL,
    used_at      timestamptz,
    PRIMARY KEY (email, code_sha256)
);

-- A password that was right, waiting for its second factor: the browser holds the id, the hub its SHA-256.
-- It is no session and opens nothing; it lives a few minutes.
CREATE TABLE sign_in_challenges (
    id_sha256   bytea PRIMARY KEY,
    email       text NOT NULL REFERENCES users (email) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A link that lets its user choose a password: one use, 24 hours, only a SHA-256 of the token kept.
CREATE TABLE password_links (
    token_sha256  bytea PRIMARY KEY,
    email         text NOT NULL REFERENCES users (email) ON DELETE CASCADE,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    used_at       timestamptz
);
CREATE INDEX password_links_by_email ON password_links (email);

-- Wrong second-factor codes are counted apart from wrong passwords: a right password forgives the password's
-- failures, and must not forgive the code's.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check,
    ADD CONSTRAINT login_failures_scope_check CHECK (scope IN ('client', 'account', 'code'));

-- A set-password link goes through the outbox like any mail.
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check,
    ADD CONSTRAINT mail_outbox_kind_check CHECK (kind IN ('instant', 'daily', 'password_link'));
