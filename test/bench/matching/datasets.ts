/**
 * The public record-linkage sets of `../shared/corpus/linkage` (see its NOTES.md): loaders, truth (entity
 * of each record from its id), and the field specification each run uses. Every set is EM-trained on
 * its own records (as Splink does); the specifications here only name fields, comparison levels (with
 * starting values for EM) and blocking rules.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BlockingRule, FieldModel, LinkageModel, LinkRecord } from '../../../src/matching/index.js';

export interface BenchRecord {
  entity: string;
  record: LinkRecord;
}

export interface Baseline {
  label: string;
  f1: number;
}

export interface BenchDataset {
  name: string;
  task: 'dedup' | 'link';
  /** dedup: records; link: left × right. */
  load: () => { records: BenchRecord[]; right?: BenchRecord[] };
  spec: LinkageModel;
  trainingRules: string[];
  baseline?: Baseline;
}

export function linkageDir(): string {
  const fromEnv = process.env.STORK_CORPUS;
  const dir =
    fromEnv !== undefined && fromEnv !== ''
      ? path.resolve(fromEnv, 'linkage')
      : path.resolve(process.cwd(), '..', 'shared', 'corpus', 'linkage');
  if (!existsSync(dir)) throw new Error(`linkage corpus missing: ${dir} (set STORK_CORPUS)`);
  return dir;
}

/** A CSV reader for these files: quoted fields (with doubled quotes) or plain ones, every value trimmed. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...data] = rows.filter((r) => r.length > 1 || (r[0] ?? '') !== '');
  const names = (header ?? []).map((h) => h.trim());
  return data.map((r) => Object.fromEntries(names.map((n, i) => [n, (r[i] ?? '').trim()])));
}

function read(...parts: string[]): Record<string, string>[] {
  const file = path.join(linkageDir(), ...parts);
  const buf = readFileSync(file);
  return parseCsv((file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8'));
}

function values(row: Record<string, string>, fields: readonly string[]): LinkRecord {
  return Object.fromEntries(fields.map((f) => [f, row[f] === '' ? undefined : row[f]]));
}

const lv = (level: string, m: number, u: number): { level: string; m: number; u: number } => ({ level, m, u });

const nameLevels = [
  lv('exact', 0.7, 0.01),
  lv('swapped', 0.03, 0.001),
  lv('jaro-winkler>=0.92', 0.1, 0.005),
  lv('jaro-winkler>=0.85', 0.05, 0.01),
  lv('phonetic', 0.03, 0.02),
  lv('jaro-winkler>=0.7', 0.04, 0.1),
  lv('else', 0.05, 0.855),
];
const dateLevels = [
  lv('exact', 0.8, 0.001),
  lv('day-month-swapped', 0.01, 0.0001),
  lv('damerau-levenshtein<=1', 0.1, 0.01),
  lv('damerau-levenshtein<=2', 0.04, 0.05),
  lv('else', 0.05, 0.9389),
];
const idLevels = [
  lv('exact', 0.85, 0.0001),
  lv('damerau-levenshtein<=1', 0.08, 0.001),
  lv('damerau-levenshtein<=2', 0.04, 0.01),
  lv('else', 0.03, 0.9889),
];
const exactLevels = [lv('exact', 0.85, 0.05), lv('else', 0.15, 0.95)];
const textLevels = [
  lv('exact', 0.7, 0.01),
  lv('jaro-winkler>=0.9', 0.15, 0.01),
  lv('jaro-winkler>=0.75', 0.1, 0.1),
  lv('else', 0.05, 0.88),
];

function field(f: string, comparator: FieldModel['comparator'], levels: FieldModel['levels'], extra: Partial<FieldModel> = {}): FieldModel {
  return { field: f, comparator, levels, ...extra };
}

const rule = (name: string, ...parts: [string, BlockingRule['parts'][number]['transform']][]): BlockingRule => ({
  name,
  parts: parts.map(([f, transform]) => ({ field: f, transform })),
});

/**
 * FEBRL (0.2.1, 0.3, 0.4.2): names, DOB, soc_sec_id, address parts, AU postcode; phone in 0.3 / 0.4.2.
 * `christen`: only the fields Christen (AusDM 2007) compared (names, address, suburb, postcode, street
 * number, state): no date of birth, identifier or phone, for a like-for-like comparison.
 */
function febrlSpec(withPhone: boolean, christenFields = false): LinkageModel {
  if (christenFields) {
    const full = febrlSpec(false);
    const keep = new Set(['given_name', 'surname', 'street_number', 'address_1', 'suburb', 'postcode', 'state']);
    const fields = full.fields.filter((f) => keep.has(f.field));
    fields.push(field('address_2', 'string', textLevels));
    return {
      ...full,
      fields,
      blocking: full.blocking
        .filter((b) => b.parts.every((p) => keep.has(p.field)))
        .concat([
          rule('sn-pc', ['surname', 'metaphone'], ['postcode', 'value']),
          rule('gn-pc', ['given_name', 'metaphone'], ['postcode', 'value']),
          rule('sn-addr', ['surname', 'initial'], ['address_1', 'metaphone']),
          rule('gn-sub', ['given_name', 'metaphone'], ['suburb', 'metaphone']),
        ]),
    };
  }
  const fields: FieldModel[] = [
    field('given_name', 'name', nameLevels, { swapWith: 'surname' }),
    field('surname', 'name', nameLevels, { swapWith: 'given_name' }),
    field('date_of_birth', 'date', dateLevels),
    field('soc_sec_id', 'string', idLevels),
    field('street_number', 'string', [lv('exact', 0.8, 0.02), lv('damerau-levenshtein<=1', 0.05, 0.1), lv('else', 0.15, 0.88)]),
    field('address_1', 'string', textLevels),
    field('suburb', 'string', textLevels),
    field('postcode', 'string', [lv('exact', 0.8, 0.001), lv('damerau-levenshtein<=1', 0.15, 0.02), lv('else', 0.05, 0.979)]),
    field('state', 'string', exactLevels),
  ];
  if (withPhone) fields.push(field('phone_number', 'phone', idLevels));
  const blocking = [
    rule('dob', ['date_of_birth', 'value']),
    rule('ssid', ['soc_sec_id', 'value']),
    rule('pc', ['postcode', 'value']),
    rule('names', ['given_name', 'metaphone'], ['surname', 'metaphone']),
    { ...rule('names-swap', ['given_name', 'metaphone'], ['surname', 'metaphone']), unordered: true },
    rule('sn-yob', ['surname', 'metaphone'], ['date_of_birth', 'year']),
    rule('gn-yob', ['given_name', 'metaphone'], ['date_of_birth', 'year']),
    rule('addr', ['street_number', 'value'], ['address_1', 'metaphone']),
    rule('sub-sn', ['suburb', 'metaphone'], ['surname', 'initial']),
    rule('sub-gn', ['suburb', 'metaphone'], ['given_name', 'initial']),
  ];
  if (withPhone) blocking.push(rule('ph', ['phone_number', 'value']));
  return {
    provenance: 'EM on the data set itself (bench)',
    prior: 0.0005,
    thresholds: { match: 0, review: -5 },
    fields,
    blocking,
  };
}

const FEBRL_FIELDS = [
  'given_name',
  'surname',
  'street_number',
  'address_1',
  'address_2',
  'suburb',
  'postcode',
  'state',
  'date_of_birth',
  'soc_sec_id',
  'phone_number',
];

function febrl021(file: string): BenchRecord[] {
  return read('febrl', file).map((r) => ({ entity: (r.rec_id ?? '').split('-')[1] ?? '', record: values(r, FEBRL_FIELDS) }));
}

function febrl042(dir: string, file: string): BenchRecord[] {
  return read('febrl-0.4.2-dsgen-series', dir, file).map((r) => ({
    entity: String(Math.floor(Number(r.rec_id) / 10)),
    record: values(r, FEBRL_FIELDS),
  }));
}

const TRAIN_FEBRL = ['dob', 'pc', 'ssid'];

const christen: Record<number, number> = { 1000: 0.944, 2500: 0.917, 5000: 0.884, 10000: 0.829 };

const HIST_FIELDS = ['first_name', 'surname', 'dob', 'postcode_fake', 'birth_place', 'occupation', 'gender'];

function historicalSpec(): LinkageModel {
  return {
    provenance: 'EM on the data set itself (bench)',
    prior: 0.0005,
    thresholds: { match: 0, review: -5 },
    fields: [
      field('first_name', 'name', nameLevels, { swapWith: 'surname', termFrequency: true }),
      field('surname', 'name', nameLevels, { swapWith: 'first_name', termFrequency: true }),
      field('dob', 'date', [
        lv('exact', 0.6, 0.001),
        lv('day-month-swapped', 0.01, 0.0001),
        lv('damerau-levenshtein<=1', 0.1, 0.01),
        lv('same-year', 0.1, 0.01),
        lv('damerau-levenshtein<=2', 0.05, 0.05),
        lv('else', 0.14, 0.9289),
      ]),
      field('postcode_fake', 'postcode', [
        lv('exact', 0.5, 0.0001),
        lv('sector', 0.1, 0.001),
        lv('district', 0.1, 0.005),
        lv('area', 0.1, 0.02),
        lv('else', 0.2, 0.9739),
      ]),
      field('birth_place', 'string', [lv('exact', 0.7, 0.01), lv('jaro-winkler>=0.9', 0.1, 0.01), lv('else', 0.2, 0.98)], {
        termFrequency: true,
      }),
      field('occupation', 'string', [lv('exact', 0.7, 0.05), lv('jaro-winkler>=0.9', 0.1, 0.02), lv('else', 0.2, 0.93)], {
        termFrequency: true,
      }),
      field('gender', 'string', [lv('exact', 0.95, 0.5), lv('else', 0.05, 0.5)]),
    ],
    blocking: [
      rule('dob', ['dob', 'value']),
      rule('pc', ['postcode_fake', 'value']),
      rule('names', ['first_name', 'metaphone'], ['surname', 'metaphone']),
      { ...rule('names-swap', ['first_name', 'metaphone'], ['surname', 'metaphone']), unordered: true },
      rule('sn-yob', ['surname', 'metaphone'], ['dob', 'year']),
      rule('gn-yob', ['first_name', 'metaphone'], ['dob', 'year']),
      rule('sn-pcd', ['surname', 'initial'], ['postcode_fake', 'outward']),
      rule('gn-pcd', ['first_name', 'initial'], ['postcode_fake', 'outward']),
      rule('sn-bp', ['surname', 'metaphone'], ['birth_place', 'value']),
      rule('sn-gi', ['surname', 'metaphone'], ['first_name', 'initial']),
      rule('sn-occ', ['surname', 'metaphone'], ['occupation', 'value']),
    ],
  };
}

export function datasets(): BenchDataset[] {
  const out: BenchDataset[] = [
    {
      name: 'FEBRL3 (febrl/dataset3, dedup)',
      task: 'dedup',
      load: () => ({ records: febrl021('dataset3.csv') }),
      spec: febrlSpec(false),
      trainingRules: TRAIN_FEBRL,
      baseline: { label: 'Splink best F1', f1: 0.9954 },
    },
    {
      name: 'FEBRL4 (febrl/dataset4a × 4b, link)',
      task: 'link',
      load: () => ({ records: febrl021('dataset4a.csv'), right: febrl021('dataset4b.csv') }),
      spec: febrlSpec(false),
      trainingRules: TRAIN_FEBRL,
      baseline: { label: 'Splink best F1', f1: 0.9998 },
    },
  ];
  for (const n of [1000, 2500, 5000, 10000]) {
    out.push({
      name: `Febrl 0.4.2 C_${n} (heavy, dedup)`,
      task: 'dedup',
      load: () => ({ records: febrl042('dedup', `dataset_C_${n}.csv`) }),
      spec: febrlSpec(true),
      trainingRules: [...TRAIN_FEBRL, 'ph'],
      baseline: { label: 'Christen linear SVM (supervised)', f1: christen[n] ?? 0 },
    });
  }
  for (const n of [1000, 2500, 5000, 10000]) {
    out.push({
      name: `Febrl 0.4.2 C_${n}, Christen's fields only`,
      task: 'dedup',
      load: () => ({ records: febrl042('dedup', `dataset_C_${n}.csv`) }),
      spec: febrlSpec(false, true),
      trainingRules: ['pc', 'names', 'addr'],
      baseline: { label: 'Christen linear SVM (supervised)', f1: christen[n] ?? 0 },
    });
  }
  out.push({
    name: 'Splink historical_50k (UK, dedup)',
    task: 'dedup',
    load: () => ({
      records: read('splink', 'historical_figures_with_errors_50k.csv.gz').map((r) => ({
        entity: r.cluster ?? '',
        record: values(r, HIST_FIELDS),
      })),
    }),
    spec: historicalSpec(),
    trainingRules: ['dob', 'pc', 'names'],
    baseline: { label: 'Splink SQLite demo, unseeded 5k sample, p>=0.5 (P 0.961 R 0.420)', f1: 0.584 },
  });
  return out;
}
