-- depends: 0007.conflicts
-- Mail: each user's choice, where their last mail left off, and an outbox every hub process sends from.
--
-- The default is 'daily' for existing and new users alike: one mail a morning tells a coordinator that sign-ups
-- are waiting without training anyone to ignore a stream of mail, and it names no one. 'instant' is a choice
-- for those who want it; 'off' for those who look at the hub anyway.
ALTER TABLE users
    ADD COLUMN notify text NOT NULL DEFAULT 'daily' CHECK (notify IN ('instant', 'daily', 'off')),
    -- Sign-ups received up to here were in this user's last mail; the next counts those after. Starts now, so
    -- nobody's first mail is a history of every sign-up ever.
    ADD COLUMN notified_until timestamptz NOT NULL DEFAULT now(),
    -- When this user's last instant mail was queued: the next waits out the gap, gathering a burst into one.
    ADD COLUMN last_instant_at timestamptz;

-- One row per mail, written in the same transaction that moves the user's notified_until, so a mail is
-- queued once and lost never. A sender claims a row (claimed_at) before the SMTP conversation and marks it
-- sent after; a claim older than the lease belonged to a hub that died, and the row is claimed again.
CREATE TABLE mail_outbox (
    id               bigserial PRIMARY KEY,
    recipient        text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('instant', 'daily')),
    digest_key       text UNIQUE,  -- 'daily <email> <local date>': one digest per user and day, whoever queues it
    message_id       text NOT NULL,  -- the same on every attempt, so a receiving server can tell a repeat
    subject          text NOT NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    claimed_at       timestamptz,
    claimed_by       uuid,
    sent_at          timestamptz,
    last_error       text  -- the kind of failure and the SMTP code: never an address or a message
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX mail_outbox_sent ON mail_outbox (sent_at) WHERE sent_at IS NOT NULL;
