import type { ConsentRecord } from '../../../../src/domain/consent.js';
import {
  centreRecipients,
  centreRecorded,
  isAboutFamily,
  newestFirstRecords,
  recordsForCentre,
} from '../../../../src/pipeline/consent/centre-records.js';

const MOTHER = '9434765919';
const BABY = '9434765870';
const TWIN_ELSEWHERE = '9434765862';

let n = 0;
const rec = (o: Partial<ConsentRecord>): ConsentRecord => ({
  id: `00000000-0000-4000-8000-00000000000${n++}`,
  kind: 'objection',
  scope: 'offer-of-support',
  recipient: 'any',
  source: 'midwife',
  recordedAt: '2026-11-01T10:00:00Z',
  recordedBy: 'client:feed',
  ...o,
});

describe('The consent records a centre sees on a family’s pages', () => {
  const family = { motherNhsNumbers: [MOTHER], babyNhsNumbers: [BABY] };
  const recipients = centreRecipients('osmondthorpe', ['leeds']);

  it('are about the centre’s babies, or the mother with no baby named, for any, the centre or its local authority', () => {
    const mine = rec({ motherNhsNumber: MOTHER, recipient: 'centre:osmondthorpe', recordedAt: '2026-11-02T10:00:00Z' });
    const la = rec({ babyNhsNumber: BABY, recipient: 'local-authority:leeds', recordedAt: '2026-11-03T10:00:00Z' });
    const anyone = rec({ motherNhsNumber: MOTHER, babyNhsNumber: BABY, withdrawnAt: '2026-11-05T10:00:00Z' });
    const otherCentre = rec({ motherNhsNumber: MOTHER, recipient: 'centre:harehills' });
    const otherLa = rec({ motherNhsNumber: MOTHER, recipient: 'local-authority:bradford' });
    const twin = rec({ motherNhsNumber: MOTHER, babyNhsNumber: TWIN_ELSEWHERE });
    const shown = recordsForCentre([mine, la, anyone, otherCentre, otherLa, twin], family, recipients);
    expect(shown.map((r) => r.id)).toEqual([la.id, mine.id, anyone.id]);
    expect(isAboutFamily(twin, family)).toBe(false);
    expect(isAboutFamily(rec({ babyNhsNumber: BABY }), family)).toBe(true);
  });

  it('orders newest first, ties by id', () => {
    const a = rec({ id: '00000000-0000-4000-8000-0000000000aa' });
    const b = rec({ id: '00000000-0000-4000-8000-0000000000bb' });
    const c = rec({ recordedAt: '2026-11-09T00:00:00Z' });
    expect(newestFirstRecords([a, b, c]).map((r) => r.id)).toEqual([c.id, b.id, a.id]);
  });

  it('may be withdrawn by the centre only when it recorded a parent’s call to itself', () => {
    expect(centreRecorded(rec({ source: 'parent-by-phone', recipient: 'centre:osmondthorpe' }), 'osmondthorpe')).toBe(true);
    expect(centreRecorded(rec({ source: 'parent-by-phone', recipient: 'centre:harehills' }), 'osmondthorpe')).toBe(false);
    expect(centreRecorded(rec({ source: 'midwife', recipient: 'centre:osmondthorpe' }), 'osmondthorpe')).toBe(false);
  });
});
