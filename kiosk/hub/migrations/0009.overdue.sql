-- depends: 0008.mail
-- Follow-up: what is still new, oldest first, and when each sign-up first left `new`.
--
-- Sign-ups still `new` are few next to the closed ones, and the Overdue filter, the digests' overdue and escalated
-- counts, and "still new" all ask only for them, by age ("made before X"): a partial index holds just those rows,
-- newest first like the list, with the program alongside so a count per program reads no table rows.
CREATE INDEX signups_still_new ON signups (created_at DESC, id DESC) INCLUDE (program) WHERE status = 'new';
-- A sign-up's history, oldest first: its first move out of `new` is the Activity page's time to first contact.
CREATE INDEX status_changes_by_signup_time ON status_changes (signup_id, changed_at);
