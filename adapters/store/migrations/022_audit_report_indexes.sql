-- The IG lead's reports (issue 14 item 5) count audit events of a few actions over a time range, grouped by feed and
-- London day, by inbox or by rule. Migration 021's audit_events_action_at (action, at, seq) already reads only the
-- events of those actions in that range (its leading columns are the (action, at) this migration first added), so
-- this migration adds nothing; it stays so that the numbering of the migrations that follow is unchanged.
SELECT 1;
