/**
 * JSON Schema for the canonical BirthNotification: the contract every feed mapper must meet before a
 * record is stored or routed. Each object schema is written through `objectSchema<T>()`, which makes
 * tsc check that its `properties` name exactly the keys of the TypeScript interface and that `required`
 * lists exactly its non-optional keys, so the schema and `birth-notification.ts` cannot drift apart.
 * (ajv's `JSONSchemaType` would force `nullable: true` on every optional field, admitting `null`, which
 * the TypeScript type does not allow; hence this narrower check plus the round-trip tests.)
 */
import { compile } from './json-schema.js';
import type {
  Address,
  Baby,
  BirthDetails,
  BirthNotification,
  GpPractice,
  LocalIdentifier,
  Mother,
  NotificationSource,
  PersonName,
} from './birth-notification.js';
import { NORMALISED_POSTCODE_PATTERN } from './postcode.js';
import { consentStatementSchema } from './consent.schema.js';

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * An object schema whose property names and required list are checked against `T` by the compiler:
 * a missing or extra property is an excess/missing-property error; a wrong `required` list makes the
 * last argument's type `never`.
 */
function objectSchema<T>() {
  return <const R extends readonly RequiredKeys<T>[]>(
    properties: { [K in keyof T]-?: object },
    required: R,
    ..._check: Exact<R[number], RequiredKeys<T>> extends true ? [] : [never]
  ) => ({ type: 'object', additionalProperties: false, properties, required: [...required] }) as const;
}

const text = { type: 'string', minLength: 1 } as const;
const nhsNumber = { type: 'string', pattern: '^[0-9]{10}$' } as const;
const date = { type: 'string', format: 'date' } as const;
const instant = { type: 'string', format: 'date-time' } as const;

const localIdentifier = objectSchema<LocalIdentifier>()({ value: text, assigner: text, type: text }, ['value']);

const personName = objectSchema<PersonName>()({ family: text, given: { type: 'array', items: text }, prefix: text }, []);

const address = objectSchema<Address>()(
  {
    lines: { type: 'array', items: text },
    city: text,
    county: text,
    postcode: { type: 'string', pattern: NORMALISED_POSTCODE_PATTERN },
    country: text,
  },
  ['lines'],
);

const baby = objectSchema<Baby>()(
  {
    nhsNumber,
    nhsNumberStatus: { type: 'string', enum: ['01', '02', '03', '04', '05', '06', '07', '08'] },
    localIdentifiers: { type: 'array', items: localIdentifier },
    name: personName,
    sex: { type: 'string', enum: ['male', 'female', 'other', 'unknown'] },
    birthDate: date,
    birthTime: instant,
    multipleBirth: { type: 'boolean' },
    birthOrder: { type: 'integer', minimum: 1, maximum: 16 },
    birthPlace: text,
    address,
    deceased: { type: 'boolean' },
    deceasedAt: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
  },
  ['localIdentifiers', 'birthDate', 'deceased'],
);

const mother = objectSchema<Mother>()(
  {
    nhsNumber,
    nhsNumberStatus: { type: 'string', enum: ['01', '02', '03', '04', '05', '06', '07', '08'] },
    localIdentifiers: { type: 'array', items: localIdentifier },
    name: personName,
    birthDate: date,
    address,
    phone: text,
    preferredLanguage: text,
  },
  ['localIdentifiers'],
);

const gpPractice = objectSchema<GpPractice>()({ odsCode: { type: 'string', pattern: '^[A-Z0-9]{3,10}$' }, name: text }, ['odsCode']);

const birthDetails = objectSchema<BirthDetails>()(
  {
    weightGrams: { type: 'number', exclusiveMinimum: 0, maximum: 10000 },
    gestationWeeks: { type: 'number', exclusiveMinimum: 0, maximum: 50 },
  },
  [],
);

const source = objectSchema<NotificationSource>()(
  {
    format: { type: 'string', enum: ['hl7v2', 'fhir-r4', 'nems-stu3'] },
    feedId: text,
    messageControlId: text,
    event: text,
    update: { type: 'boolean' },
  },
  ['format', 'feedId', 'messageControlId', 'event'],
);

/** The schema itself, exported for documentation endpoints and for other format mappers' tests. */
export const birthNotificationSchema = {
  $id: 'https://stork.nhs.example/schemas/birth-notification.json',
  ...objectSchema<BirthNotification>()(
    {
      baby,
      mother,
      gpPractice,
      birthDetails,
      confidentiality: { type: 'string', enum: ['normal', 'restricted', 'very-restricted'] },
      source,
      consents: { type: 'array', maxItems: 20, items: consentStatementSchema },
    },
    ['baby', 'confidentiality', 'source'],
  ),
} as const;

/** Compiled once at import; `validateBirthNotificationShape.errors` holds ajv errors after a failure. */
export const validateBirthNotificationShape = compile<BirthNotification>(birthNotificationSchema);
