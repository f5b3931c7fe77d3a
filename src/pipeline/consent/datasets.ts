/**
 * Datasets: the named field selections a rule may disclose ("share the minimum needed for the purpose").
 * They are defined here in TypeScript, not in rulebook files, so a rulebook can only choose among
 * reviewed selections; `minimise` builds a new record holding exactly the chosen fields.
 */
import {
  familyAddress,
  type Address,
  type Baby,
  type BirthDetails,
  type BirthNotification,
  type Confidentiality,
  type GpPractice,
  type Mother,
  type NotificationSource,
} from '../../domain/birth-notification.js';

/** A field that a dataset may disclose. `familyAddress` is the mother's address, else the baby's. */
export type DisclosedField =
  | 'baby.nhsNumber'
  | 'baby.nhsNumberStatus'
  | 'baby.localIdentifiers'
  | 'baby.name'
  | 'baby.sex'
  | 'baby.birthDate'
  | 'baby.birthTime'
  | 'baby.multipleBirth'
  | 'baby.birthOrder'
  | 'baby.birthPlace'
  | 'baby.deceased'
  | 'baby.deceasedAt'
  | 'baby.address'
  | 'mother.nhsNumber'
  | 'mother.localIdentifiers'
  | 'mother.name'
  | 'mother.birthDate'
  | 'mother.address'
  | 'mother.phone'
  | 'mother.preferredLanguage'
  | 'familyAddress'
  | 'gpPractice'
  | 'birthDetails'
  | 'confidentiality'
  | 'source';

/** Fields that locate or contact the family: never disclosed for a restricted record. */
export const CONTACT_FIELDS: readonly DisclosedField[] = ['familyAddress', 'baby.address', 'mother.address', 'mother.phone'];
/** Clinical fields: only disclosed with recorded consent for them. */
export const CLINICAL_FIELDS: readonly DisclosedField[] = ['birthDetails'];

const OFFER_OF_SUPPORT: readonly DisclosedField[] = [
  'baby.name',
  'baby.sex',
  'baby.birthDate',
  'baby.nhsNumber',
  'baby.birthOrder',
  'mother.name',
  'familyAddress',
  'mother.phone',
  'mother.preferredLanguage',
  'gpPractice',
];

const SAFEGUARDING_REVIEW: readonly DisclosedField[] = [
  'baby.nhsNumber',
  'baby.nhsNumberStatus',
  'baby.localIdentifiers',
  'baby.name',
  'baby.sex',
  'baby.birthDate',
  'baby.birthTime',
  'baby.multipleBirth',
  'baby.birthOrder',
  'baby.birthPlace',
  'baby.deceased',
  'baby.deceasedAt',
  'mother.nhsNumber',
  'mother.localIdentifiers',
  'mother.name',
  'mother.birthDate',
  'mother.preferredLanguage',
  'gpPractice',
  'birthDetails',
  'confidentiality',
  'source',
];

/** The datasets a rule may name, each a reviewed field selection. */
export const DATASETS = {
  /** What a centre needs to offer support: who, when, where to reach the family, language, GP. No clinical details. */
  'offer-of-support': OFFER_OF_SUPPORT,
  /** For the safeguarding team reviewing a restricted record: everything except address and phone. */
  'safeguarding-review': SAFEGUARDING_REVIEW,
  /** The offer of support plus birth details, only where consent to share clinical details is recorded. */
  'offer-of-support-with-clinical': [...OFFER_OF_SUPPORT, 'birthDetails'],
  /** The offer of support without the mother's phone number: for agreements where the centre writes to the family first. */
  'offer-of-support-by-letter': OFFER_OF_SUPPORT.filter((f) => f !== 'mother.phone'),
} as const satisfies Record<string, readonly DisclosedField[]>;

/** A dataset name a rule may use. */
export type DatasetName = keyof typeof DATASETS;

/** Narrows a string read from a rulebook file to a known dataset name. */
export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, name);
}

/** What leaves the hub: a new object with only the dataset's fields, in the canonical record's shape. */
export interface DisclosedRecord {
  dataset: DatasetName;
  baby: Partial<Baby>;
  mother?: Partial<Mother>;
  /** The family's home address (the mother's where known, else the baby's). */
  familyAddress?: Address;
  gpPractice?: GpPractice;
  birthDetails?: BirthDetails;
  confidentiality?: Confidentiality;
  source?: NotificationSource;
}

type Copier = (n: BirthNotification, out: DisclosedRecord) => void;

const copy = <T>(v: T): T => (typeof v === 'object' && v !== null ? structuredClone(v) : v);

/** Copies `from[key]` onto `to` (objects deep-copied) when it is set. */
function copyField<T extends object>(from: T, to: Partial<T>, key: keyof T): void {
  const v = from[key];
  if (v !== undefined) to[key] = copy(v);
}

function babyField(key: keyof Baby): Copier {
  return (n, out) => {
    copyField(n.baby, out.baby, key);
  };
}

function motherField(key: keyof Mother): Copier {
  return (n, out) => {
    if (n.mother?.[key] === undefined) return;
    out.mother ??= {};
    copyField(n.mother, out.mother, key);
  };
}

type TopField = 'gpPractice' | 'birthDetails' | 'confidentiality' | 'source';

function topField(key: TopField): Copier {
  return (n, out) => {
    const from: Pick<DisclosedRecord, TopField> = n;
    copyField(from, out, key);
  };
}

const COPIERS: Record<DisclosedField, Copier> = {
  'baby.nhsNumber': babyField('nhsNumber'),
  'baby.nhsNumberStatus': babyField('nhsNumberStatus'),
  'baby.localIdentifiers': babyField('localIdentifiers'),
  'baby.name': babyField('name'),
  'baby.sex': babyField('sex'),
  'baby.birthDate': babyField('birthDate'),
  'baby.birthTime': babyField('birthTime'),
  'baby.multipleBirth': babyField('multipleBirth'),
  'baby.birthOrder': babyField('birthOrder'),
  'baby.birthPlace': babyField('birthPlace'),
  'baby.deceased': babyField('deceased'),
  'baby.deceasedAt': babyField('deceasedAt'),
  'baby.address': babyField('address'),
  'mother.nhsNumber': motherField('nhsNumber'),
  'mother.localIdentifiers': motherField('localIdentifiers'),
  'mother.name': motherField('name'),
  'mother.birthDate': motherField('birthDate'),
  'mother.address': motherField('address'),
  'mother.phone': motherField('phone'),
  'mother.preferredLanguage': motherField('preferredLanguage'),
  familyAddress: (n, out) => {
    const a = familyAddress(n);
    if (a !== undefined) out.familyAddress = structuredClone(a);
  },
  gpPractice: topField('gpPractice'),
  birthDetails: topField('birthDetails'),
  confidentiality: topField('confidentiality'),
  source: topField('source'),
};

/**
 * Builds the record to disclose: a deep copy of only the named dataset's fields, so nothing outside
 * the selection (and no shared reference to the canonical record) can leak to the recipient.
 */
export function minimise(n: BirthNotification, datasetName: DatasetName): DisclosedRecord {
  const out: DisclosedRecord = { dataset: datasetName, baby: {} };
  for (const field of DATASETS[datasetName]) COPIERS[field](n, out);
  return out;
}
