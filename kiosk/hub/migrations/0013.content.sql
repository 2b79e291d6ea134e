-- depends: 0008.mail
-- Published content: each version is one signed bundle (kiosk/bundle.py), stored exactly as it was signed and
-- served to kiosks byte for byte, so its SHA-256 is its ETag. A version never changes: to go back, the old
-- content is published again under a new number (a kiosk never takes a lower one).
CREATE TABLE content_versions (
    version       integer PRIMARY KEY CHECK (version >= 1),
    bundle        bytea NOT NULL,
    sha256        text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    note          text NOT NULL CHECK (btrim(note) <> ''),
    published_by  text NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now(),
    targets       text[],  -- NULL: every kiosk; else the kiosks it is meant for
    activate_at   timestamptz  -- NULL: at once
);

CREATE FUNCTION content_versions_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published content version never changes: publish a new one';
END $$;
CREATE TRIGGER content_versions_no_update BEFORE UPDATE ON content_versions
    FOR EACH ROW EXECUTE FUNCTION content_versions_are_immutable();
