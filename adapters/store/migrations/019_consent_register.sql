-- The consent register (issue 13): a parent's consent or objection, with its scope, purpose, recipient, period,
-- source, who recorded it and whom it is about (the mother's and/or the baby's NHS number). A record is never
-- changed in place: withdrawing one appends a row to consent_withdrawals, so the full history stays readable.
-- `message_id` and `ordinal` identify a record that came with a message (a FHIR Consent, an HL7 v2 CON or Z
-- segment): processing the message twice records it once.
CREATE TABLE consents (
  id                 uuid PRIMARY KEY,
  recorded_at        timestamptz NOT NULL,
  recorded_by        text NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('consent', 'objection')),
  scope              text NOT NULL CHECK (scope IN ('offer-of-support', 'clinical-details', 'antenatal')),
  purpose            text,
  recipient          text NOT NULL,
  period_from        date,
  period_to          date,
  source             text NOT NULL CHECK (source IN ('antenatal-booking', 'midwife', 'parent-by-phone', 'fhir', 'hl7v2')),
  mother_nhs_number  text,
  baby_nhs_number    text,
  message_id         uuid,
  ordinal            integer,
  CHECK (mother_nhs_number IS NOT NULL OR baby_nhs_number IS NOT NULL),
  CHECK (period_from IS NULL OR period_to IS NULL OR period_from <= period_to),
  UNIQUE (message_id, ordinal)
);
CREATE INDEX consents_mother ON consents (mother_nhs_number) WHERE mother_nhs_number IS NOT NULL;
CREATE INDEX consents_baby ON consents (baby_nhs_number) WHERE baby_nhs_number IS NOT NULL;

CREATE TABLE consent_withdrawals (
  consent_id    uuid PRIMARY KEY REFERENCES consents (id),
  withdrawn_at  timestamptz NOT NULL,
  withdrawn_by  text NOT NULL
);

INSERT INTO app_privileges (relation, privileges) VALUES
  ('consents', '{SELECT,INSERT}'),
  ('consent_withdrawals', '{SELECT,INSERT}');
