-- Issue 16: a message a bearer-JWT client sent over HTTP keeps what the token granted at receipt (its role, and the
-- sending facility or feed id its scope named), so that a replay checks the message against that client's authority,
-- as it does against an API key's (read from the file again). NULL for API keys, MLLP, MESH and fetched records.
ALTER TABLE messages ADD COLUMN api_client_grant jsonb;
