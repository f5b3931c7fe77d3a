-- Issue 14 item 3: the IG lead's audit queries (GET /v1/audit/events) page in (at, seq) order, by keyset. Each filter
-- has an index that yields its events already in that order, so a page over a table of millions of events is one
-- index range scan that stops at the page's limit. No column is added to audit_events: the hash chain covers every
-- column; the actor's role, the purpose and the API client are keys of `details` (see the README's audit table).
CREATE INDEX audit_events_at ON audit_events (at, seq);
CREATE INDEX audit_events_recipient_at ON audit_events (recipient, at, seq) WHERE recipient IS NOT NULL;
CREATE INDEX audit_events_rule_at ON audit_events (rule_id, at, seq) WHERE rule_id IS NOT NULL;
CREATE INDEX audit_events_action_at ON audit_events (action, at, seq);
-- By feed: events naming a message of the feed (messages.feed_id through message_id) use audit_events_message, per
-- message; by subject: audit_events_subject, audit_events_notification and audit_events_message (migration 001).
