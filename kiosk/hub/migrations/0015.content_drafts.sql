-- depends: 0013.content
-- The Content page: the `publisher` role (the Content page and My account, no sign-ups), and the one current
-- draft of the programs file, kept here and never on a kiosk until it is published as a signed version.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'coordinator', 'publisher'));

CREATE TABLE content_draft (
    only_one  boolean PRIMARY KEY DEFAULT true CHECK (only_one),  -- one current draft for the whole hub
    programs  text NOT NULL,  -- programs.toml as the form last saved it (it may still have problems)
    saved_by  text NOT NULL,
    saved_at  timestamptz NOT NULL DEFAULT now()
);
