-- depends: 0013.content
-- The staged rollout of published content: a version goes first to the canary kiosks, and to every kiosk once
-- they have run it healthily for the soak time. A version with no row here (published before this migration)
-- goes to every kiosk, as it did.
ALTER TABLE kiosks ADD COLUMN canary boolean NOT NULL DEFAULT false;

CREATE TABLE content_rollouts (
    version               integer PRIMARY KEY REFERENCES content_versions (version),
    stage                 text NOT NULL CHECK (stage IN ('canary', 'all')),
    started_at            timestamptz NOT NULL DEFAULT now(),
    canaries_healthy_since timestamptz,  -- every canary runs it with no error: the soak runs from here
    to_all_at             timestamptz,
    paused_at             timestamptz,   -- set: nobody not yet given it gets it, and it does not advance
    paused_by             text,
    aborted_at            timestamptz,   -- set: for good; the kiosks that have it keep it
    aborted_by            text
);
