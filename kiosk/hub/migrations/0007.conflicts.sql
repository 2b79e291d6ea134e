-- depends: 0006.must_change_password
-- An admin resolves a conflict: keeps the stored record, or marks the incoming one reviewed. Who and when are kept.
ALTER TABLE signup_conflicts ADD COLUMN resolved_at timestamptz, ADD COLUMN resolved_by text,
    ADD COLUMN resolution text CHECK (resolution IN ('kept_stored', 'reviewed'));
CREATE INDEX signup_conflicts_open ON signup_conflicts (received_at) WHERE resolved_at IS NULL;
