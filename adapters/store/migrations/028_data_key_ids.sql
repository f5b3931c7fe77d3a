-- Encryption at rest (issue 16 item 3): a message's bytes and its ACK are stored encrypted with AES-256-GCM
-- (adapters/store/data-cipher.ts) under the data key whose id this column holds; both columns of a row share it.
-- NULL: stored in clear (every row written before this migration, or by a hub with no data key); such rows still
-- read, and `npm run keys:rotate` encrypts them under the current key, as it re-encrypts rows under older keys.
-- A new column, not a new table: no app_privileges row is needed (the grants on message_bodies cover it).
ALTER TABLE message_bodies ADD COLUMN key_id text;
