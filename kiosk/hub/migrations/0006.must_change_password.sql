-- depends: 0005.list_indexes
-- A one-time password from `add-user` must be replaced at the first sign-in, before any screen.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
