-- depends: 0008.mail
-- Working the list: possible duplicates and do-not-contact.
--
-- `duplicate` is a closed status beside `enrolled` and `declined`; `duplicate_of` names the sign-up it repeats
-- (the audit log keeps it after a reopen clears it). An original deleted by retention leaves the duplicate closed.
ALTER TABLE signups DROP CONSTRAINT signups_status_check,
    ADD CONSTRAINT signups_status_check CHECK (status IN ('new', 'contacted', 'enrolled', 'declined', 'duplicate')),
    ADD COLUMN duplicate_of uuid REFERENCES signups (id) ON DELETE SET NULL,
    ADD CONSTRAINT signups_duplicate_of_when_duplicate CHECK (duplicate_of IS NULL OR status = 'duplicate');
DROP INDEX signups_closed;
CREATE INDEX signups_closed ON signups (status_changed_at) WHERE status IN ('enrolled', 'declined', 'duplicate');
CREATE INDEX signups_duplicate_of ON signups (duplicate_of) WHERE duplicate_of IS NOT NULL;  -- the FK's delete

-- "Possible duplicate": the same phone (E.164, as stored) or email (any case) in the same program, within 180 days.
-- Empty phones and emails (the contact method not chosen) match nothing, so they are left out of the indexes.
CREATE INDEX signups_same_phone ON signups (program, phone, created_at) WHERE phone <> '';
CREATE INDEX signups_same_email ON signups (program, lower(email), created_at) WHERE email <> '';

-- Do not contact: why, who and when, or all three empty. Setting and clearing are audited; the flag blocks the
-- move to `contacted` in the UPDATE itself, and keeps the sign-up out of exports unless asked.
ALTER TABLE signups ADD COLUMN do_not_contact_reason text, ADD COLUMN do_not_contact_by text,
    ADD COLUMN do_not_contact_at timestamptz,
    ADD CONSTRAINT signups_do_not_contact_whole CHECK (
        (do_not_contact_at IS NULL) = (do_not_contact_reason IS NULL)
        AND (do_not_contact_at IS NULL) = (do_not_contact_by IS NULL));
-- A flag shows on every other sign-up of the same phone or email the viewer may see, in any of their programs:
-- the flagged rows are few, so these stay small.
CREATE INDEX signups_do_not_contact_phone ON signups (phone) WHERE do_not_contact_at IS NOT NULL AND phone <> '';
CREATE INDEX signups_do_not_contact_email ON signups (lower(email))
    WHERE do_not_contact_at IS NOT NULL AND email <> '';
