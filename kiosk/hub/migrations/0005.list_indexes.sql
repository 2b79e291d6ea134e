-- depends: 0004.sign_in
-- What the sign-ups page's EXPLAIN (ANALYZE, BUFFERS) asked for at 1,000,000 rows. A search by name or phone
-- ("%4242%") was a sequential scan of the whole table; trigrams let it read only the rows that can match.
-- A kiosk filter walked the newest-first index past every other kiosk's rows; now it reads its own, in order.
-- pg_trgm is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX signups_search ON signups USING gin (name gin_trgm_ops, participant_name gin_trgm_ops, phone gin_trgm_ops);
CREATE INDEX signups_by_kiosk_newest ON signups (kiosk, created_at DESC, id DESC);
