-- Two more ways in (issue 10): national birth notifications downloaded from a MESH mailbox ('mesh'), and FHIR
-- resources Stork fetched itself from a trust's FHIR server after a signal event or a poll ('fhir-fetch').
-- The CHECK from migration 001 was unnamed; PostgreSQL (and PGlite) named it messages_channel_check.
ALTER TABLE messages DROP CONSTRAINT messages_channel_check;
ALTER TABLE messages ADD CONSTRAINT messages_channel_check CHECK (channel IN ('mllp', 'http', 'mesh', 'fhir-fetch'));
