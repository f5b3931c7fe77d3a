-- FHIR R4 messages arrive over HTTP beside HL7 v2 (issue 10): each message records the format of its bytes, so
-- that an operator, a replay and the API know how to read them. Existing rows are HL7 v2 (ER7). A new column,
-- not a new table: no app_privileges row is needed (the application role's grants on messages cover it).
ALTER TABLE messages ADD COLUMN format text NOT NULL DEFAULT 'hl7v2'
  CHECK (format IN ('hl7v2', 'fhir-r4+json', 'fhir-r4+xml', 'fhir-stu3+json', 'fhir-stu3+xml'));
