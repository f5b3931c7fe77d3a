-- The consent register's pages (issue 13): a record made or withdrawn by a person signed in to the web app is
-- recorded by `user:<sub>`; the name their token gave is kept beside it, so the centre's and the IG lead's pages
-- can say who recorded or withdrew it ("recorded by phone … by Olivia Demo"). Empty for API clients and messages.
ALTER TABLE consents ADD COLUMN recorded_by_name text;
ALTER TABLE consent_withdrawals ADD COLUMN withdrawn_by_name text;
