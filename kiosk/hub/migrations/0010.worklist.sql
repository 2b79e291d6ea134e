-- depends: 0008.mail
-- Working the list: who a sign-up is assigned to (and who assigned it, and when: the assignee's mail counts
-- what others gave them since their last one), when it was anonymized, and each user's default view.
-- No foreign key to users: a TRUNCATE of users (CASCADE) must never take the sign-ups with it, and whether the
-- assignee holds the program is checked in the UPDATE that assigns.
ALTER TABLE signups
    ADD COLUMN assigned_to text,
    ADD COLUMN assigned_by text,
    ADD COLUMN assigned_at timestamptz,
    -- Set once its personal fields were replaced: a later copy from a kiosk is answered as stored and dropped.
    ADD COLUMN anonymized_at timestamptz;
-- "Mine", newest first, straight from an index like the list's other filters.
CREATE INDEX signups_by_assignee ON signups (assigned_to, created_at DESC, id DESC);

-- The filter a user's /signups opens with (the URL's query, never the search text); NULL: everything.
ALTER TABLE users ADD COLUMN default_view jsonb;
