/**
 * The JSON Schema of a whole agreement file of ordered rules (a birth rulebook, the antenatal agreement): the shared
 * header, then `rules`, at least one, each with an id, a description, the conditions it names (`when`, checked against
 * the known names after the schema), an effect, what the kind of agreement adds, and a lawful basis.
 */
import { AGREEMENT_HEADER_REQUIRED, AGREEMENT_ID, AGREEMENT_TEXT, agreementHeaderProperties } from './agreement-header-schema.js';

/**
 * `$id` names the schema; `kindProperties` are the rule properties the kind of agreement defines (its `effect` enum, its
 * `dataset`, a review `inbox`), placed between `when` and `lawfulBasis`.
 */
export function agreementFileSchema<K extends { effect: object }>($id: string, kindProperties: K) {
  return {
    $id,
    type: 'object',
    additionalProperties: false,
    required: [...AGREEMENT_HEADER_REQUIRED, 'rules'],
    properties: {
      ...agreementHeaderProperties,
      rules: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'description', 'when', 'effect', 'lawfulBasis'],
          properties: {
            id: AGREEMENT_ID,
            description: AGREEMENT_TEXT,
            when: { type: 'array', minItems: 1, uniqueItems: true, items: AGREEMENT_TEXT },
            ...kindProperties,
            lawfulBasis: { type: 'string', minLength: 10 },
          },
        },
      },
    },
  } as const;
}
