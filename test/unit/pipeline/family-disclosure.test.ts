import { centreFamilyView, type CentreItem, type FamilyChild, type FamilyFacts } from '../../../src/pipeline/family-disclosure.js';
import type { DisclosedRecord } from '../../../src/pipeline/consent/decide.js';

const offer = (given: string, birthDate: string, extra: Partial<DisclosedRecord> = {}): DisclosedRecord => ({
  dataset: 'offer-of-support',
  baby: { name: { given: [given], family: 'Okafor' }, birthDate, sex: 'female', nhsNumber: '9434765919' },
  mother: { name: { given: ['Ada'], family: 'Okafor' }, phone: '07700900123', preferredLanguage: 'yo' },
  familyAddress: { lines: ['1 High Street'], postcode: 'LS1 4AP' },
  gpPractice: { odsCode: 'B86001', name: 'Leeds GP' },
  ...extra,
});

const item = (
  id: string,
  deliveredAt: string,
  disclosed: DisclosedRecord | undefined,
  status: CentreItem['status'] = 'new',
): CentreItem => ({
  notificationId: id,
  status,
  deliveredAt,
  ...(disclosed ? { disclosed } : {}),
});

const child = (
  key: string,
  record: FamilyChild['record'],
  notification?: FamilyChild['notification'],
  notificationId?: string,
): FamilyChild => ({
  childKey: key,
  record,
  ...(notification ? { notification } : {}),
  ...(notificationId ? { notificationId } : {}),
});

const facts = (over: Partial<FamilyFacts>): FamilyFacts => ({ familyId: 'f1', items: [], children: [], ...over });

describe('centreFamilyView: what one centre may see of a whole family', () => {
  it('is undefined when the centre has nothing about the family still in effect (never sent, or moved away)', () => {
    expect(centreFamilyView('centre-a', facts({}))).toBeUndefined();
    expect(centreFamilyView('centre-a', facts({ items: [item('n1', '2026-11-01T10:00:00Z', undefined, 'withdrawn')] }))).toBeUndefined();
  });

  it('takes the mother, address and GP from the newest live disclosed record, never from elsewhere', () => {
    const older = offer('Bisi', '2026-10-01', { mother: { name: { given: ['Old'], family: 'Name' } } });
    const newer = offer('Chidi', '2026-11-20');
    const v = centreFamilyView(
      'centre-a',
      facts({ items: [item('n1', '2026-10-02T09:00:00Z', older), item('n2', '2026-11-21T09:00:00Z', newer)] }),
    );
    expect(v?.mother?.name?.given).toEqual(['Ada']);
    expect(v?.familyAddress?.postcode).toBe('LS1 4AP');
    expect(v?.gpPractice?.odsCode).toBe('B86001');
    expect(v?.babies.map((b) => b.notificationId)).toEqual(['n1', 'n2']);
    expect(v?.shownNotificationIds).toEqual(['n2', 'n1']);
  });

  it('shows a withdrawn baby of the family without any of its record', () => {
    const v = centreFamilyView(
      'centre-a',
      facts({
        items: [
          item('n1', '2026-11-01T09:00:00Z', offer('Gone', '2026-11-01'), 'withdrawn'),
          item('n2', '2026-11-02T09:00:00Z', offer('Here', '2026-11-02')),
        ],
      }),
    );
    expect(v?.babies.find((b) => b.notificationId === 'n1')).toEqual({ notificationId: 'n1', status: 'withdrawn' });
    expect(v?.shownNotificationIds).toEqual(['n2']);
  });

  it('shows siblings only from notifications that permitted sharing and are in effect, or from the centre’s own register', () => {
    const children: FamilyChild[] = [
      child('nhs:1', { name: { given: ['Permitted'] }, birthDate: '2022-01-01' }, { effect: 'permit', status: 'delivered' }, 's1'),
      child('nhs:2', { name: { given: ['Withheld'] }, birthDate: '2021-01-01' }, { effect: 'deny', status: 'withheld' }, 's2'),
      child('nhs:3', { name: { given: ['Review'] }, birthDate: '2020-01-01' }, { effect: 'review', status: 'delivered' }, 's3'),
      child('nhs:4', { name: { given: ['Withdrawn'] }, birthDate: '2019-01-01' }, { effect: 'permit', status: 'withdrawn' }, 's4'),
      child(
        'nhs:5',
        { name: { given: ['Died'] }, birthDate: '2018-01-01', deceased: true },
        { effect: 'permit', status: 'delivered' },
        's5',
      ),
      child('register:centre-a:7', { name: { given: ['Registered'] }, birthDate: '2017-01-01' }),
      child('notification:n2', { name: { given: ['Here'] }, birthDate: '2026-11-02' }, { effect: 'permit', status: 'delivered' }, 'n2'),
    ];
    const base = { items: [item('n2', '2026-11-02T09:00:00Z', offer('Here', '2026-11-02'))], children };
    const own = centreFamilyView('centre-a', facts({ ...base, centre: 'centre-a' }));
    expect(own?.siblings.map((s) => s.name?.given?.[0])).toEqual(['Permitted', 'Registered']);
    expect(own?.shownNotificationIds).toEqual(['n2', 's1']);
    // Another centre's register children are not this centre's to see.
    const other = centreFamilyView('centre-a', facts({ ...base, centre: 'centre-b' }));
    expect(other?.siblings.map((s) => s.name?.given?.[0])).toEqual(['Permitted']);
  });

  it('shows a sibling only the baby fields the centre’s dataset allows', () => {
    const narrow: DisclosedRecord = { dataset: 'safeguarding-review', baby: { birthDate: '2026-11-02' } };
    const children = [
      child(
        'nhs:1',
        { name: { given: ['Sib'] }, birthDate: '2022-01-01', sex: 'male', nhsNumber: '9434765870' },
        { effect: 'permit', status: 'delivered' },
        's1',
      ),
    ];
    const offerView = centreFamilyView('c', facts({ items: [item('n', '2026-11-02T09:00:00Z', offer('B', '2026-11-02'))], children }));
    expect(offerView?.siblings).toEqual([{ name: { given: ['Sib'] }, birthDate: '2022-01-01', sex: 'male', nhsNumber: '9434765870' }]);
    // safeguarding-review allows baby name, sex, date of birth and NHS number too, so use a view that lacks them:
    const none = centreFamilyView(
      'c',
      facts({ items: [item('n', '2026-11-02T09:00:00Z', { ...narrow, dataset: 'offer-of-support' })], children }),
    );
    expect(none?.dataset).toBe('offer-of-support');
    expect(none?.mother).toBeUndefined();
    expect(none?.familyAddress).toBeUndefined();
  });

  it('never shows a child born after the newest baby the centre was sent (a family that moved on)', () => {
    const children = [
      child('nhs:1', { name: { given: ['Older'] }, birthDate: '2024-05-01' }, { effect: 'permit', status: 'delivered' }, 's1'),
      child('nhs:2', { name: { given: ['Younger'] }, birthDate: '2026-11-20' }, { effect: 'permit', status: 'delivered' }, 's2'),
      child('nhs:3', { name: { given: ['Undated'] } }, { effect: 'permit', status: 'delivered' }, 's3'),
    ];
    const v = centreFamilyView('old-centre', facts({ items: [item('n', '2025-06-02T09:00:00Z', offer('B', '2025-06-01'))], children }));
    expect(v?.siblings.map((s) => s.name?.given?.[0])).toEqual(['Older']);
  });

  it('shows the named worker only to the centre that assigned them', () => {
    const base = {
      items: [item('n', '2026-11-02T09:00:00Z', offer('B', '2026-11-02'))],
      namedWorker: { name: 'Sam Carter', centre: 'centre-a', at: '2026-11-03T10:00:00Z' },
    };
    expect(centreFamilyView('centre-a', facts(base))?.namedWorker).toEqual({ name: 'Sam Carter', assignedAt: '2026-11-03T10:00:00Z' });
    expect(centreFamilyView('centre-b', facts(base))?.namedWorker).toBeUndefined();
  });
});
