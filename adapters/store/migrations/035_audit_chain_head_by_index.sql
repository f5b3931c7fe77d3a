-- The audit chain's trigger (migration 020) reads the chain's last event, `ORDER BY seq DESC LIMIT 1`, once per
-- transaction. With statistics from when audit_events was small (a new database, a restore, a bulk load before
-- autovacuum has analysed it), the planner chose a sequential scan and a sort for it, and PL/pgSQL kept that plan:
-- every transaction that wrote audit events then read the whole table under the chain's lock (85 ms per
-- transaction at 45,000 events, measured with auto_explain in `npm run bench:stages`). The primary key on seq
-- always answers it with one backward index step, so the function plans without sequential scans.
ALTER FUNCTION audit_events_chain() SET enable_seqscan = off;
