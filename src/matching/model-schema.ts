/** JSON Schema of a linkage model file (`mappings/matching.json`), checked at load. Pure. */
import { compile } from '../domain/json-schema.js';
import type { LinkageModel } from './model.js';

const probability = { type: 'number', exclusiveMinimum: 0, maximum: 1 };
const level = {
  type: 'object',
  additionalProperties: false,
  required: ['level', 'm', 'u'],
  properties: { level: { type: 'string', minLength: 1 }, m: probability, u: probability },
};

export const linkageModelSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['provenance', 'prior', 'thresholds', 'fields', 'blocking'],
  properties: {
    $comment: { type: 'string' },
    provenance: { type: 'string', minLength: 1 },
    prior: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    thresholds: {
      type: 'object',
      additionalProperties: false,
      required: ['match', 'review'],
      properties: { match: { type: 'number' }, review: { type: 'number' } },
    },
    fields: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['field', 'comparator', 'levels'],
        properties: {
          field: { type: 'string', minLength: 1 },
          comparator: { enum: ['name', 'date', 'postcode', 'phone', 'string'] },
          swapWith: { type: 'string', minLength: 1 },
          termFrequency: { type: 'boolean' },
          levels: { type: 'array', minItems: 2, items: level },
        },
      },
    },
    blocking: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'parts'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9-]+$' },
          unordered: { type: 'boolean' },
          parts: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['field', 'transform'],
              properties: {
                field: { type: 'string', minLength: 1 },
                transform: {
                  enum: ['value', 'metaphone', 'year', 'initial', 'outward', 'sector', 'last6', 'first-token', 'month-day'],
                },
              },
            },
          },
        },
      },
    },
    termFrequencies: {
      type: 'object',
      additionalProperties: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } },
    },
  },
};

export const validateLinkageModel = compile<LinkageModel>(linkageModelSchema);
