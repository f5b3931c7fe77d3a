/**
 * The JSON Schema parts every information-sharing agreement file shares (the rulebooks of births, the antenatal
 * agreement): who it is, which version, what for, between whom, and when it is reviewed. Each file's own schema
 * adds its rules to these.
 */
export const AGREEMENT_ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' } as const;
export const AGREEMENT_TEXT = { type: 'string', minLength: 1 } as const;

export const AGREEMENT_HEADER_REQUIRED = ['id', 'version', 'purpose', 'description', 'parties', 'reviewDate'] as const;

export const agreementHeaderProperties = {
  $schema: { type: 'string' },
  id: AGREEMENT_ID,
  version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+(\\.[0-9]+)?$' },
  purpose: AGREEMENT_TEXT,
  description: AGREEMENT_TEXT,
  parties: {
    type: 'array',
    minItems: 2,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'role'],
      properties: { name: AGREEMENT_TEXT, role: AGREEMENT_TEXT, odsCode: { type: 'string', pattern: '^[A-Z0-9]{3,10}$' } },
    },
  },
  reviewDate: { type: 'string', format: 'date' },
} as const;
