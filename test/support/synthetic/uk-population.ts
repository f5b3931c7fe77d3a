/**
 * A deterministic, seeded generator of UK family registers (mothers) and of probes derived from them with
 * labelled corruptions, for the family matcher's tests and benchmark. No public UK register exists, so the
 * name tables below follow the shape of UK frequency data (ONS surname and baby-name lists, Census ethnic
 * group shares): mostly White British/Irish names with a long Zipf tail, South Asian (Pakistani, Indian,
 * Bangladeshi), Eastern European (Polish, Romanian, Lithuanian, Ukrainian) and African/Caribbean names,
 * several given names for some women, and hyphenated double-barrelled surnames. Postcodes have the UK
 * shape (`LS9 7TF`), mobiles are 07… numbers. No jest types: compiled by tsconfig.build.json for the bench.
 */
import type { PersonForMatching } from '../../../src/matching/index.js';
import { seededRandom } from '../../../src/matching/index.js';

export interface RegisterEntry {
  id: number;
  person: PersonForMatching;
}

/** What was done to a probe: the corruption (matching probes) or the kind of stranger (non-matching). */
export type ProbeKind =
  | 'clean'
  | 'typo'
  | 'swapped-names'
  | 'hyphen-one-part'
  | 'transliteration'
  | 'moved-house'
  | 'no-phone'
  | 'dob-transposed'
  | 'moved-and-typo'
  | 'stranger'
  | 'stranger-same-name-and-dob'
  | 'stranger-same-dob-and-postcode'
  | 'stranger-same-surname-and-postcode';

export const MATCHING_KINDS: readonly ProbeKind[] = [
  'clean',
  'typo',
  'swapped-names',
  'hyphen-one-part',
  'transliteration',
  'moved-house',
  'no-phone',
  'dob-transposed',
  'moved-and-typo',
];
export const NON_MATCHING_KINDS: readonly ProbeKind[] = [
  'stranger',
  'stranger-same-name-and-dob',
  'stranger-same-dob-and-postcode',
  'stranger-same-surname-and-postcode',
];

export interface Probe {
  kind: ProbeKind;
  person: PersonForMatching;
  /** The register entry this probe is (undefined for non-matching probes). */
  truth: number | undefined;
}

/** A space-separated list of names. */
function words(list: string): string[] {
  return list.split(' ');
}

type Group = 'british' | 'southAsian' | 'easternEuropean' | 'african';

/** Share of mothers per name group (roughly England's births by mother's ethnic group / country of birth). */
const GROUP_SHARES: [Group, number][] = [
  ['british', 0.74],
  ['southAsian', 0.12],
  ['easternEuropean', 0.08],
  ['african', 0.06],
];

const SURNAMES: Record<Group, string[]> = {
  british: words(
    'Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson ' +
      'Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patterson ' +
      'Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison ' +
      'Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths ' +
      'Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards ' +
      'Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell ' +
      'Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes ' +
      'Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham ' +
      'Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Ford Reynolds Saunders ' +
      'Payne Fox Day Brooks Lawrence Atkinson Wells Dawson Ryan Hudson Holland Sutcliffe Ackroyd ' +
      "Haigh Firth Brearley Hebblethwaite O'Brien O'Connor McDonald MacKenzie Fitzgerald Doherty " +
      'Gallagher Quinn Lynch Byrne',
  ),
  southAsian: words(
    'Khan Ahmed Hussain Ali Begum Patel Shah Singh Kaur Akhtar Bibi Iqbal Mahmood Rahman Islam ' +
      'Uddin Miah Chowdhury Mohammed Rashid Aslam Bashir Butt Malik Qureshi Siddiqui Sharma Gupta ' +
      'Kumar Mistry Parmar Chauhan Sandhu Gill Bains Sidhu Nawaz Javed Anwar Sultana',
  ),
  easternEuropean: words(
    'Kowalska Nowak Wisniewska Wojcik Kaminska Lewandowska Zielinska Szymanska Wozniak ' +
      'Dabrowska Kozlowska Jankowska Mazur Krawczyk Popescu Ionescu Popa Stan Dumitru ' +
      'Kazlauskiene Petrauskiene Jankauskiene Shevchenko Kovalenko Bondarenko Tkachenko Ivanova ' +
      'Petrova Aleksandrova Horvath',
  ),
  african: words(
    'Okafor Okonkwo Adeyemi Mensah Osei Abdi Mohamed Hassan Nkosi Eze Adebayo Boateng Asante ' +
      'Owusu Ibrahim Yusuf Farah Omar Okoro Adeleke Oyelaran Nwosu Campbell Williams Brown ' +
      'Francis Grant Johnson Kamara Diallo',
  ),
};

const GIVEN: Record<Group, string[]> = {
  british: words(
    'Sophie Emma Laura Charlotte Hannah Amy Jessica Rebecca Lauren Emily Sarah Katie Chloe ' +
      'Gemma Danielle Stacey Jade Rachel Amber Leanne Samantha Natalie Kirsty Holly Lucy Megan ' +
      'Bethany Georgia Olivia Ellie Zoe Abigail Victoria Jennifer Nicola Kelly Louise Claire ' +
      'Michelle Kayleigh Grace Jodie Alice Eleanor Naomi Siobhan Niamh Aoife Catriona Rhiannon',
  ),
  southAsian: words(
    'Fatima Aisha Ayesha Zainab Maryam Khadija Sana Amina Nadia Saima Rukhsana Shazia Farzana ' +
      'Nasreen Rubina Priya Pooja Anjali Harpreet Gurpreet Manpreet Simran Sunita Reena Nusrat ' +
      'Shamima Tahmina Salma Rehana Bushra',
  ),
  easternEuropean: words(
    'Katarzyna Agnieszka Magdalena Joanna Anna Monika Aleksandra Justyna Ewelina Karolina ' +
      'Natalia Paulina Ioana Andreea Elena Mihaela Ruta Egle Olha Yuliya Tetyana Oksana ' +
      'Anastasiya Iryna Zofia',
  ),
  african: words(
    'Chioma Ngozi Adaeze Funmilayo Abimbola Ama Akosua Efua Hodan Fadumo Ifrah Sagal Amina ' +
      'Fatuma Blessing Precious Grace Joy Mercy Comfort Nia Zara Chantelle Shanice Aaliyah',
  ),
};

const TAIL_PREFIX = words(
  'Ash Brad Crow Dun Fair Gold Hart Kings Lang Mar Nor Pen Rad Stan Thorn War Whit Black ' +
    'Brook Hol Mid Shel Cal Har Ather Bur Clif Dar Elm Sand',
);
const TAIL_SUFFIX = words('ley ton field worth by ford ham well wood stone ridge dale bury shaw croft hurst more wick ' + 'den cliffe');

const MIDDLE = ['Louise', 'Marie', 'Jane', 'Elizabeth', 'Anne', 'Rose', 'May', 'Grace', 'Victoria', 'Begum', 'Bibi', 'Kaur', 'Maria'];

/** Transliteration / spelling variants, each list one name. Used for the `transliteration` probes. */
export const VARIANTS: string[][] = [
  ['Mohammed', 'Muhammad', 'Mohamed', 'Mohammad'],
  ['Aleksandrova', 'Alexandrova'],
  ['Aleksandra', 'Alexandra'],
  ['Katarzyna', 'Katarina', 'Katarzina'],
  ['Fatima', 'Fatimah', 'Fatma'],
  ['Aisha', 'Ayesha', 'Aysha'],
  ['Ayesha', 'Aisha', 'Ayeesha'],
  ['Zainab', 'Zaynab', 'Zeinab'],
  ['Maryam', 'Mariam', 'Maryum'],
  ['Khadija', 'Khadijah', 'Khadeeja'],
  ['Yuliya', 'Yulia', 'Iuliia'],
  ['Olha', 'Olga', 'Olgha'],
  ['Tetyana', 'Tatiana', 'Tatyana'],
  ['Anastasiya', 'Anastasia', 'Anastasija'],
  ['Iryna', 'Irina'],
  ['Natalia', 'Nataliya', 'Natalya'],
  ['Hussain', 'Hussein', 'Husain'],
  ['Chowdhury', 'Choudhury', 'Chaudhry'],
  ['Rahman', 'Rehman'],
  ['Ahmed', 'Ahmad'],
  ['Shevchenko', 'Shevchenco'],
  ['Kovalenko', 'Kowalenko'],
  ['Wisniewska', 'Wiśniewska'],
  ['Wojcik', 'Wójcik'],
  ['Kazlauskiene', 'Kazlauskienė'],
  ['Yusuf', 'Yousuf', 'Yousef'],
  ['Mohamed', 'Mohammed', 'Muhammad'],
  ['Hassan', 'Hasan'],
  ['Okonkwo', 'Okonkow'],
  ['Siobhan', 'Shivaun'],
];

const AREAS: [string, number][] = [
  ['LS', 29],
  ['BD', 24],
  ['WF', 17],
  ['HD', 9],
  ['HX', 7],
  ['M', 50],
  ['OL', 16],
  ['BB', 12],
  ['PR', 26],
  ['L', 40],
  ['B', 99],
  ['CV', 47],
  ['WV', 16],
  ['DE', 75],
  ['NG', 25],
  ['LE', 19],
  ['S', 36],
  ['NE', 66],
  ['BS', 49],
  ['CF', 83],
  ['E', 18],
  ['N', 22],
  ['SE', 28],
  ['SW', 20],
  ['G', 84],
  ['EH', 55],
  ['ST', 21],
  ['SO', 53],
  ['PL', 35],
  ['NR', 35],
];
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

export interface PopulationOptions {
  seed?: number;
  /** Register size (default 50,000). */
  size?: number;
  /** Probes per kind (default 400). */
  probesPerKind?: number;
}

export interface Population {
  register: RegisterEntry[];
  probes: Probe[];
}

/**
 * A stream of notifications as a register would see them, for estimating the production model by EM:
 * each probe is an existing mother (share `known`) with independent corruptions at plausible rates, or a
 * new mother. Unlabelled use only (EM does not see `truth`).
 */
export function realisticProbes(population: Population, count: number, seed = 99, known = 0.6): Probe[] {
  const random = seededRandom(seed);
  const fresh = generateUkPopulation({ seed: seed + 1, size: count, probesPerKind: 0 }).register;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const out: Probe[] = [];
  const pool = population.register;
  for (let n = 0; n < count; n++) {
    const stranger = fresh[n];
    if (random() >= known && stranger !== undefined) {
      out.push({ kind: 'stranger', person: stranger.person, truth: undefined });
      continue;
    }
    const e = pick(pool);
    const p: PersonForMatching = { ...e.person, givenNames: [...(e.person.givenNames ?? [])] };
    const edit = (s: string): string => {
      const i = 1 + Math.floor(random() * Math.max(1, s.length - 1));
      return s.slice(0, i) + 'abcdefghijklmnopqrstuvwxyz'.charAt(Math.floor(random() * 26)) + s.slice(i + 1);
    };
    if (random() < 0.04) p.familyName = edit(p.familyName ?? '');
    if (random() < 0.04) p.givenNames = [edit(p.givenNames?.[0] ?? '')];
    if (random() < 0.1 && (p.givenNames?.length ?? 0) > 1) p.givenNames = p.givenNames?.slice(0, 1);
    // known by her middle name
    else if (random() < 0.05 && (p.givenNames?.length ?? 0) > 1) p.givenNames = p.givenNames?.slice(1);
    const variant = VARIANTS.find((v) => v[0] === p.givenNames?.[0]);
    if (variant && random() < 0.3) p.givenNames = [pick(variant.slice(1))];
    if ((p.familyName ?? '').includes('-') && random() < 0.3) p.familyName = (p.familyName ?? '').split('-')[0];
    if (random() < 0.015) [p.familyName, p.givenNames] = [p.givenNames?.[0] ?? '', [p.familyName ?? '']];
    if (random() < 0.12) {
      // moved: half within the same district, half anywhere
      const local = pick(pool).person.postcode?.split(' ')[1];
      p.postcode = random() < 0.5 && local !== undefined ? `${p.postcode?.split(' ')[0] ?? 'LS9'} ${local}` : pick(pool).person.postcode;
    }
    if (random() < 0.15) p.phone = undefined;
    else if (random() < 0.06) p.phone = pick(pool).person.phone;
    if (random() < 0.01) {
      const [y, m, d] = (p.birthDate ?? '').split('-');
      p.birthDate =
        Number(d) <= 12
          ? `${y ?? ''}-${d ?? ''}-${m ?? ''}`
          : `${y ?? ''}-${m ?? ''}-${String(Math.max(1, Number(d) - 1)).padStart(2, '0')}`;
    }
    if (random() < 0.005) p.birthDate = edit(p.birthDate ?? '').replace(/[a-z]/, String(Math.floor(random() * 10)));
    if (random() < 0.003) p.birthDate = pick(pool).person.birthDate;
    if (random() < 0.03) p.postcode = undefined;
    out.push({ kind: 'clean', person: p, truth: e.id });
  }
  return out;
}

/** Builds the register and the labelled probes; the same seed always gives the same population. */
export function generateUkPopulation(options: PopulationOptions = {}): Population {
  const random = seededRandom(options.seed ?? 2026);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const letter = (from = INWARD_LETTERS): string => from.charAt(Math.floor(random() * from.length));
  /** Zipf-like: early entries of a frequency-ordered list are more common (the first of 50 about 5%). */
  const zipf = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(xs.length * random() ** 1.4))] as T;
  /** The long tail of British surnames: place-name compounds, each rare (600 of them). */
  const tailSurname = (): string => pick(TAIL_PREFIX) + pick(TAIL_SUFFIX);
  const group = (): Group => {
    let r = random();
    for (const [g, share] of GROUP_SHARES) {
      if (r < share) return g;
      r -= share;
    }
    return 'british';
  };

  const postcodePool: string[] = [];
  for (let i = 0; i < 24_000; i++) {
    const [area, districts] = pick(AREAS);
    const district = 1 + Math.floor(random() ** 1.5 * districts);
    postcodePool.push(`${area}${district} ${Math.floor(random() * 10)}${letter()}${letter()}`);
  }
  const phone = (): string => `07${String(Math.floor(random() * 1e9)).padStart(9, '0')}`;
  const birthDate = (): string => {
    const d = new Date(Date.UTC(1981, 0, 1) + Math.floor(random() * 29 * 365.25) * 86_400_000);
    return d.toISOString().slice(0, 10);
  };
  const surname = (g: Group): string => {
    if (random() < 0.04) {
      // double-barrelled: two surnames, hyphenated
      let second = zipf(SURNAMES[g === 'african' ? 'british' : g]);
      const first = zipf(SURNAMES.british);
      if (second === first) second = 'Hughes';
      return `${first}-${second}`;
    }
    return g === 'british' && random() < 0.55 ? tailSurname() : zipf(SURNAMES[g]);
  };
  const givenNames = (g: Group): string[] => {
    const first = zipf(GIVEN[g]);
    return random() < 0.2 ? [first, pick(MIDDLE)] : [first];
  };
  const newPerson = (): PersonForMatching => {
    const g = group();
    return {
      familyName: surname(g),
      givenNames: givenNames(g),
      birthDate: birthDate(),
      postcode: random() < 0.02 ? undefined : pick(postcodePool),
      phone: random() < 0.1 ? undefined : phone(),
    };
  };

  const size = options.size ?? 50_000;
  const register: RegisterEntry[] = [];
  for (let id = 0; id < size; id++) register.push({ id, person: newPerson() });

  const typo = (s: string): string => {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const i = 1 + Math.floor(random() * Math.max(1, s.length - 1));
    const op = Math.floor(random() * 4);
    if (op === 0) return s.slice(0, i) + letter(letters) + s.slice(i);
    if (op === 1 && s.length > 3) return s.slice(0, i) + s.slice(i + 1);
    if (op === 2 && i < s.length - 1) return s.slice(0, i) + s.charAt(i + 1) + s.charAt(i) + s.slice(i + 2);
    return s.slice(0, i) + letter(letters) + s.slice(i + 1);
  };
  const variantOf = (name: string): string | undefined => {
    const list = VARIANTS.find((v) => v[0] === name);
    return list ? pick(list.slice(1)) : undefined;
  };
  const nearbyOrElsewhere = (pc: string | undefined): string => {
    if (pc !== undefined && random() < 0.5) {
      const outward = pc.split(' ')[0] ?? '';
      return `${outward} ${Math.floor(random() * 10)}${letter()}${letter()}`;
    }
    return pick(postcodePool);
  };

  const perKind = options.probesPerKind ?? 400;
  const probes: Probe[] = [];
  const entry = (accept: (e: RegisterEntry) => boolean = () => true): RegisterEntry => {
    for (;;) {
      const e = pick(register);
      if (accept(e)) return e;
    }
  };
  const copy = (p: PersonForMatching): PersonForMatching => ({ ...p, givenNames: [...(p.givenNames ?? [])] });

  for (const kind of MATCHING_KINDS) {
    for (let n = 0; n < perKind; n++) {
      let e = entry();
      const p = copy(e.person);
      switch (kind) {
        case 'clean':
          break;
        case 'typo':
          if (random() < 0.5) p.familyName = typo(p.familyName ?? '');
          else p.givenNames = [typo(p.givenNames?.[0] ?? ''), ...(p.givenNames ?? []).slice(1)];
          break;
        case 'swapped-names': {
          const given = p.givenNames?.[0] ?? '';
          p.givenNames = [p.familyName ?? ''];
          p.familyName = given;
          break;
        }
        case 'hyphen-one-part': {
          e = entry((x) => (x.person.familyName ?? '').includes('-'));
          const parts = (e.person.familyName ?? '').split('-');
          Object.assign(p, copy(e.person), { familyName: random() < 0.5 ? parts[0] : parts[1] });
          break;
        }
        case 'transliteration': {
          e = entry((x) => variantOf(x.person.familyName ?? '') !== undefined || variantOf(x.person.givenNames?.[0] ?? '') !== undefined);
          Object.assign(p, copy(e.person));
          const fam = variantOf(p.familyName ?? '');
          const giv = variantOf(p.givenNames?.[0] ?? '');
          if (giv !== undefined && (fam === undefined || random() < 0.5)) p.givenNames = [giv, ...(p.givenNames ?? []).slice(1)];
          else if (fam !== undefined) p.familyName = fam;
          break;
        }
        case 'moved-house':
          p.postcode = nearbyOrElsewhere(p.postcode);
          break;
        case 'no-phone':
          p.phone = undefined;
          break;
        case 'dob-transposed': {
          e = entry((x) => {
            const [, m, d] = (x.person.birthDate ?? '').split('-');
            return m !== undefined && d !== undefined && Number(d) <= 12 && d !== m;
          });
          Object.assign(p, copy(e.person));
          const [y, m, d] = (p.birthDate ?? '').split('-');
          p.birthDate = `${y ?? ''}-${d ?? ''}-${m ?? ''}`;
          break;
        }
        case 'moved-and-typo':
          p.postcode = nearbyOrElsewhere(p.postcode);
          p.familyName = typo(p.familyName ?? '');
          break;
        default:
          break;
      }
      probes.push({ kind, person: p, truth: e.id });
    }
  }

  for (const kind of NON_MATCHING_KINDS) {
    for (let n = 0; n < perKind; n++) {
      const p = newPerson();
      if (kind === 'stranger-same-name-and-dob') {
        // a different woman with a common name (top of the frequency lists) and the same date of birth
        const common = new Set([...SURNAMES.british.slice(0, 10), ...SURNAMES.southAsian.slice(0, 6)]);
        const e = entry((x) => common.has(x.person.familyName ?? ''));
        Object.assign(p, { familyName: e.person.familyName, givenNames: [...(e.person.givenNames ?? [])], birthDate: e.person.birthDate });
      } else if (kind === 'stranger-same-dob-and-postcode') {
        const e = entry((x) => x.person.postcode !== undefined);
        Object.assign(p, { birthDate: e.person.birthDate, postcode: e.person.postcode });
      } else if (kind === 'stranger-same-surname-and-postcode') {
        // a sister or sister-in-law living at the same address
        const e = entry((x) => x.person.postcode !== undefined);
        Object.assign(p, { familyName: e.person.familyName, postcode: e.person.postcode });
      }
      probes.push({ kind, person: p, truth: undefined });
    }
  }
  return { register, probes };
}
