import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHl7v2Mappings } from '../../../../src/config/hl7v2-mappings.js';
import { mapHl7v2, type MapOutcome } from '../../../../src/pipeline/hl7v2/map-hl7v2.js';
import { describeNewborn, newbornAdt } from '../../../support/synthetic/newborn-adt.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const set = loadHl7v2Mappings(path.join(repo, 'mappings', 'hl7v2'));
const itk = set.get('itk-adt');
const ctx = { feedId: 'test-feed', receivedAt: new Date('2025-06-15T09:00:30Z') };

function birth(out: MapOutcome) {
  if (out.kind !== 'birth') throw new Error(`expected birth, got ${JSON.stringify(out)}`);
  return out;
}

describe('mapHl7v2 with the ITK default mapping', () => {
  it('maps a synthetic newborn to the values the generator describes', () => {
    const d = describeNewborn({ seed: 7 });
    const { notification: n, issues } = birth(mapHl7v2(d.text, itk, ctx));
    expect(issues).toEqual([]);
    expect(n.baby).toMatchObject({
      nhsNumber: d.baby.nhsNumber,
      nhsNumberStatus: '01',
      localIdentifiers: [{ value: d.baby.mrn, assigner: 'RR8', type: 'MR' }],
      name: { family: d.baby.family, given: [d.baby.given] },
      sex: d.baby.sex,
      birthDate: d.baby.birthDate,
      deceased: false,
      address: { lines: d.baby.addressLines, postcode: d.baby.postcode },
    });
    expect(n.mother).toMatchObject({ nhsNumber: d.mother?.nhsNumber, birthDate: d.mother?.birthDate });
    expect(n.birthDetails).toEqual({ weightGrams: d.weightGrams, gestationWeeks: d.gestationWeeks });
    expect(n.gpPractice?.odsCode).toMatch(/^[A-Z][0-9]{5}$/);
    expect(n.source).toEqual({ format: 'hl7v2', feedId: 'test-feed', messageControlId: d.controlId, event: 'ADT^A28' });
  });

  it('reads the birth time as London local time and keeps the local birth date', () => {
    // Born 00:30 BST on 15 June = 23:30Z on 14 June.
    const text = newbornAdt({ seed: 8, messageTime: new Date('2025-06-15T08:00:00Z'), ageMinutes: 8 * 60 + 30 });
    const n = birth(mapHl7v2(text, itk, ctx)).notification;
    expect(n.baby.birthDate).toBe('2025-06-15');
    expect(n.baby.birthTime).toBe('2025-06-15T00:30:00+01:00');
    expect(new Date(n.baby.birthTime ?? '').toISOString()).toBe('2025-06-14T23:30:00.000Z');
  });

  it('accepts \\n and \\r\\n line endings exactly like \\r', () => {
    const base = birth(mapHl7v2(newbornAdt({ seed: 9 }), itk, ctx)).notification;
    for (const lineEnding of ['\n', '\r\n'] as const) {
      expect(birth(mapHl7v2(newbornAdt({ seed: 9, lineEnding }), itk, ctx)).notification).toEqual(base);
    }
  });

  it('decodes escapes in names and addresses', () => {
    const d = describeNewborn({ seed: 10, escapes: true });
    const n = birth(mapHl7v2(d.text, itk, ctx)).notification;
    expect(n.baby.name?.family).toBe(d.baby.family);
    expect(n.baby.name?.family).toContain(' & ');
    expect(n.baby.address?.lines).toEqual([`FLAT ${d.baby.addressLines[0]?.slice(5) ?? ''}`, 'BLOCK^C | UNIT~2 \\ REAR']);
  });

  it('quarantines an NHS number failing Modulus 11 with 102 at PID-3', () => {
    const out = mapHl7v2(newbornAdt({ seed: 11, invalidNhsNumber: true }), itk, ctx);
    expect(out.kind).toBe('invalid');
    if (out.kind !== 'invalid') return;
    expect(out.issues.find((i) => i.path === 'baby.nhsNumber')).toMatchObject({
      severity: 'error',
      code: '102',
      location: { segment: 'PID', field: 3 },
    });
    for (const i of out.issues) expect(i.message).not.toMatch(/[0-9]{6,}/);
  });

  it('is not relevant for other events and for adults', () => {
    expect(mapHl7v2(newbornAdt({ seed: 12, event: 'A11' }), itk, ctx)).toEqual({ kind: 'not-relevant', reason: 'not a birth event' });
    expect(mapHl7v2(newbornAdt({ seed: 12, adult: true }), itk, ctx)).toEqual({ kind: 'not-relevant', reason: 'subject is not a newborn' });
  });

  describe('updates that may report a death (A08, A31, A03)', () => {
    it("map a newborn's death like a birth, with the baby deceased and the update's event", () => {
      for (const event of ['A08', 'A31', 'A03']) {
        const d = describeNewborn({ seed: 40, event, deceased: true });
        const n = birth(mapHl7v2(d.text, itk, ctx)).notification;
        expect(n.baby).toMatchObject({ nhsNumber: d.baby.nhsNumber, deceased: true });
        expect(n.baby.deceasedAt).toBeDefined();
        expect(n.source.event).toBe(`ADT^${event}`);
      }
    });

    it('look for a death up to deathWindowDays after birth, not only maxAgeDays', () => {
      const d = describeNewborn({ seed: 41, event: 'A08', deceased: true, ageMinutes: 200 * 24 * 60 });
      const withoutIndicator = d.text.replace(/\rPV2\|[^\r]*/, '');
      expect(birth(mapHl7v2(withoutIndicator, itk, ctx)).notification.baby.deceased).toBe(true);
      const adult = newbornAdt({ seed: 41, event: 'A08', deceased: true, adult: true });
      expect(mapHl7v2(adult, itk, ctx)).toEqual({ kind: 'not-relevant', reason: 'subject is not a newborn' });
    });

    it('are updates (A08, A31) when they report no death: mapped like a birth, marked update, up to deathWindowDays old', () => {
      for (const event of ['A08', 'A31']) {
        const n = birth(mapHl7v2(newbornAdt({ seed: 42, event }), itk, ctx)).notification;
        expect(n.source).toMatchObject({ event: `ADT^${event}`, update: true });
        expect(n.baby.deceased).toBe(false);
      }
      const older = describeNewborn({ seed: 42, event: 'A08', ageMinutes: 200 * 24 * 60 }).text.replace(/\rPV2\|[^\r]*/, '');
      expect(birth(mapHl7v2(older, itk, ctx)).notification.source.update).toBe(true);
      // A birth event is never an update; a death report is a death report, not an update.
      expect(birth(mapHl7v2(newbornAdt({ seed: 42 }), itk, ctx)).notification.source.update).toBeUndefined();
      expect(birth(mapHl7v2(newbornAdt({ seed: 42, event: 'A08', deceased: true }), itk, ctx)).notification.source.update).toBeUndefined();
      // An update is validated like a birth: a wrong NHS number is an error.
      expect(mapHl7v2(newbornAdt({ seed: 42, event: 'A08', invalidNhsNumber: true }), itk, ctx).kind).toBe('invalid');
    });

    it('a discharge (A03) that reports no death is not relevant, whatever else is wrong with it', () => {
      expect(mapHl7v2(newbornAdt({ seed: 42, event: 'A03' }), itk, ctx)).toEqual({
        kind: 'not-relevant',
        reason: 'update that reports no death',
      });
      const noBirthDate = newbornAdt({ seed: 42, event: 'A03' }).replace(/(\rPID(\|[^|\r]*){6})\|[^|\r]*/, '$1|');
      expect(mapHl7v2(noBirthDate, itk, ctx)).toEqual({ kind: 'not-relevant', reason: 'update that reports no death' });
    });

    it('are rejected like a birth when they report a death but the baby cannot be identified safely', () => {
      const out = mapHl7v2(newbornAdt({ seed: 43, event: 'A08', deceased: true, invalidNhsNumber: true }), itk, ctx);
      expect(out.kind).toBe('invalid');
    });
  });

  it('uses maxAgeDays from MSH-7, or the newborn indicator PV2-36', () => {
    const old = newbornAdt({ seed: 13, ageMinutes: 40 * 24 * 60 });
    expect(birth(mapHl7v2(old, itk, ctx)).notification.baby.birthDate).toBe('2025-05-06'); // PV2-36 Y
    const noIndicator = old.replace(/\rPV2\|[^\r]*/, '');
    expect(mapHl7v2(noIndicator, itk, ctx)).toEqual({ kind: 'not-relevant', reason: 'subject is not a newborn' });
  });

  describe('judge "newborn" both at the message time (MSH-7) and at receipt', () => {
    const DAY = 86_400_000;
    const sent = new Date('2025-06-15T09:00:00Z');
    const unflagged = (o: Parameters<typeof newbornAdt>[0]) => newbornAdt(o).replace(/\rPV2\|[^\r]*/, '');
    const at = (receivedAt: Date, backfill?: { until: string; reason: string }) => ({
      ...ctx,
      receivedAt,
      ...(backfill ? { backfill } : {}),
    });

    it('MSH-7 recent but the birth too old: not a newborn, whenever it arrives', () => {
      const text = unflagged({ seed: 50, messageTime: sent, ageMinutes: 40 * 24 * 60 });
      expect(mapHl7v2(text, itk, at(sent))).toEqual({ kind: 'not-relevant', reason: 'subject is not a newborn' });
      const backfill = { until: '2026-01-01T00:00:00Z', reason: 'replaying the 2025 archive' };
      expect(mapHl7v2(text, itk, at(sent, backfill))).toEqual({ kind: 'not-relevant', reason: 'subject is not a newborn' });
    });

    it('a newborn whose MSH-7 is two years old, arriving today: not relevant, saying it is late', () => {
      const text = unflagged({ seed: 51, messageTime: sent, ageMinutes: 3 * 24 * 60 });
      expect(birth(mapHl7v2(text, itk, at(new Date(sent.getTime() + 60_000)))).backfill).toBeUndefined();
      const twoYearsLater = new Date(sent.getTime() + 730 * DAY);
      expect(mapHl7v2(text, itk, at(twoYearsLater))).toEqual({
        kind: 'not-relevant',
        reason:
          'subject was a newborn at the message time (MSH-7) but is not at receipt, 730 days later: ' +
          "a late or replayed message (a back-fill needs the feed's back-fill mode)",
      });
      // Flagged newborn by PV2-36: the indicator does not make a two-year-old message timely.
      const flagged = newbornAdt({ seed: 51, messageTime: sent, ageMinutes: 3 * 24 * 60 });
      expect(mapHl7v2(flagged, itk, at(twoYearsLater)).kind).toBe('not-relevant');
    });

    it('the receipt test uses the same window: day 28 at receipt is in, day 29 is out', () => {
      const text = unflagged({ seed: 52, messageTime: sent, ageMinutes: 20 * 24 * 60 });
      expect(mapHl7v2(text, itk, at(new Date(sent.getTime() + 8 * DAY))).kind).toBe('birth');
      expect(mapHl7v2(text, itk, at(new Date(sent.getTime() + 9 * DAY))).kind).toBe('not-relevant');
      // A baby admitted by the PV2-36 indicator (40 days old at MSH-7) is late once MSH-7 is over 28 days old.
      const flagged = newbornAdt({ seed: 52, messageTime: sent, ageMinutes: 40 * 24 * 60 });
      expect(mapHl7v2(flagged, itk, at(new Date(sent.getTime() + 28 * DAY))).kind).toBe('birth');
      expect(mapHl7v2(flagged, itk, at(new Date(sent.getTime() + 29 * DAY))).kind).toBe('not-relevant');
    });

    it('back-fill mode admits a late newborn until its end, and says so in the outcome; the MSH-7 test still applies', () => {
      const text = unflagged({ seed: 53, messageTime: sent, ageMinutes: 3 * 24 * 60 });
      const today = new Date(sent.getTime() + 730 * DAY);
      const mode = { until: new Date(today.getTime() + DAY).toISOString(), reason: 'INC-4711 replaying the PAS archive' };
      const out = birth(mapHl7v2(text, itk, at(today, mode)));
      expect(out.backfill).toEqual({ reason: 'INC-4711 replaying the PAS archive', until: mode.until, lateDays: 730 });
      // The same message without the mode, and after the mode's end, is not relevant.
      expect(mapHl7v2(text, itk, at(today)).kind).toBe('not-relevant');
      expect(mapHl7v2(text, itk, at(new Date(Date.parse(mode.until)), mode)).kind).toBe('not-relevant');
      // A timely newborn on a feed in back-fill mode is an ordinary birth: nothing to record.
      expect(birth(mapHl7v2(text, itk, at(sent, mode))).backfill).toBeUndefined();
    });

    it('a death report is never too late: it withdraws what was sent', () => {
      const text = newbornAdt({ seed: 54, event: 'A08', deceased: true, messageTime: sent, ageMinutes: 3 * 24 * 60 });
      const out = birth(mapHl7v2(text, itk, at(new Date(sent.getTime() + 400 * DAY))));
      expect([out.notification.baby.deceased, out.backfill]).toEqual([true, undefined]);
    });
  });

  it('maps twins, stillbirth and restriction', () => {
    const t2 = birth(mapHl7v2(newbornAdt({ seed: 14, birthOrder: 2 }), itk, ctx)).notification;
    expect([t2.baby.multipleBirth, t2.baby.birthOrder]).toEqual([true, 2]);
    const sb = birth(mapHl7v2(newbornAdt({ seed: 15, deceased: true }), itk, ctx)).notification;
    expect(sb.baby.deceased).toBe(true);
    expect(sb.baby.deceasedAt).toMatch(/^2025-06-1[34]T/);
    expect(birth(mapHl7v2(newbornAdt({ seed: 16, restricted: true }), itk, ctx)).notification.confidentiality).toBe('restricted');
  });

  it('takes the mother from PID-21 when there is no MTH NK1', () => {
    const d = describeNewborn({ seed: 17, motherVia: 'pid21' });
    const n = birth(mapHl7v2(d.text, itk, ctx)).notification;
    expect(n.mother?.nhsNumber).toBe(d.mother?.nhsNumber);
    expect(n.mother?.name).toBeUndefined();
  });

  it('applies the Northvale override: PID-2 NHS number, NK1 code 16, ZU1 restriction', () => {
    const d = describeNewborn({ seed: 18, northvale: true, restricted: true });
    expect(mapHl7v2(d.text, itk, ctx).kind).toBe('birth'); // default mapping: no NHS number, no mother
    const n = birth(mapHl7v2(d.text, set.get('northvale-trust'), ctx)).notification;
    expect(n.baby.nhsNumber).toBe(d.baby.nhsNumber);
    expect(n.mother?.nhsNumber).toBe(d.mother?.nhsNumber);
    expect(n.confidentiality).toBe('restricted');
    const viaItk = birth(mapHl7v2(d.text, itk, ctx)).notification;
    expect([viaItk.baby.nhsNumber, viaItk.mother, viaItk.confidentiality]).toEqual([undefined, undefined, 'normal']);
  });

  it('reports bad dates of birth and missing segments as invalid with 0357 codes', () => {
    const text = newbornAdt({ seed: 19 });
    const badDob = text.replace(/(\rPID(?:\|[^|\r]*){6}\|)[0-9]+/, '$120251323');
    expect(mapHl7v2(badDob, itk, ctx)).toMatchObject({
      kind: 'invalid',
      issues: [{ code: '102', location: { segment: 'PID', field: 7 } }],
    });
    const noDob = text.replace(/(\rPID(?:\|[^|\r]*){6}\|)[0-9]+/, '$1');
    expect(mapHl7v2(noDob, itk, ctx)).toMatchObject({ kind: 'invalid', issues: [{ code: '101', location: { segment: 'PID', field: 7 } }] });
    const noPid = text.replace(/\rPID\|[^\r]*/, '');
    expect(mapHl7v2(noPid, itk, ctx)).toMatchObject({ kind: 'invalid', issues: [{ code: '100', location: { segment: 'PID' } }] });
    expect(mapHl7v2('', itk, ctx)).toMatchObject({ kind: 'invalid', issues: [{ code: '100' }] });
    expect(mapHl7v2('PID|1', itk, ctx).kind).toBe('invalid');
  });

  it('drops an unrecognisable postcode with a warning and warns on unknown codes', () => {
    const text = newbornAdt({ seed: 20, postcodes: ['LEN 7TF'] }).replace(/\|M\|\|\||\|F\|\|\|/, '|X|||');
    const out = birth(mapHl7v2(text, itk, ctx));
    expect(out.notification.baby.address?.postcode).toBeUndefined();
    expect(out.notification.baby.sex).toBeUndefined();
    expect(out.issues.find((i) => i.path === 'baby.address.postcode')).toMatchObject({
      severity: 'warning',
      location: { segment: 'PID', field: 11, component: 5 },
    });
    expect(out.issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: '103', path: 'baby.sex' }));
  });

  it('is fast enough for the hot path', () => {
    const texts = Array.from({ length: 300 }, (_, i) => newbornAdt({ seed: 1000 + i }));
    const start = process.hrtime.bigint();
    for (const t of texts) mapHl7v2(t, itk, ctx);
    const perMessageMs = Number(process.hrtime.bigint() - start) / 1e6 / texts.length;
    expect(perMessageMs).toBeLessThan(5);
  });
});

describe('mapHl7v2 when its own code fails', () => {
  it('returns the internal outcome carrying the error (not an ordinary invalid), and never throws', () => {
    const bug = new TypeError('a bug in a mapping function');
    const fields = new Map(itk.fields);
    fields.set(
      'baby.name',
      (itk.fields.get('baby.name') ?? []).map((rule) => ({
        ...rule,
        fn: {
          kind: 'name' as const,
          fn: () => {
            throw bug;
          },
        },
      })),
    );
    const out = mapHl7v2(newbornAdt({ seed: 13 }), { ...itk, fields }, ctx);
    expect(out.kind).toBe('internal');
    if (out.kind !== 'internal') return;
    expect(out.error.name).toBe('InternalError');
    expect(out.error.cause).toBe(bug);
  });
});
