-- The IG lead's reports (issue 14 item 5) count audit events of a few actions over a time range, grouped by feed and
-- London day, by inbox or by rule: an index on (action, at) reads only the events of those actions in that range.
-- (Indexes only: the audit table's columns are hashed into its chain, so none is added here.)
CREATE INDEX audit_events_action_at ON audit_events (action, at);
