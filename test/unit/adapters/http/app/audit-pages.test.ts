import { londonMidnight, readAuditSearch } from '../../../../../adapters/http/app/audit-search-form.js';
import { actorInWords, describeEvent, londonDateTime, type AuditNames } from '../../../../../adapters/http/app/audit-sentences.js';
import type { AuditEvent } from '../../../../../src/ports/audit.js';

const centres = new Set(['osmondthorpe', 'harehills']);
const now = new Date('2026-11-29T10:00:00Z');
const search = (q: Record<string, string>) => readAuditSearch({ search: '1', ...q }, centres, now);

describe('The IG lead’s search form', () => {
  it('is empty until submitted, and then needs at least one criterion', () => {
    expect(readAuditSearch({}, centres, now).kind).toBe('empty');
    const none = search({});
    expect(none.kind === 'invalid' && none.errors).toEqual([
      { text: 'Enter an NHS number, select a centre, feed, rule or event type, or enter a date to search by', href: '#nhsNumber' },
    ]);
  });

  it('reads an NHS number with spaces, a known centre and a London date range (BST and GMT alike)', () => {
    const f = search({
      nhsNumber: '943 476 5919',
      centre: 'osmondthorpe',
      'from-day': '30',
      'from-month': '6',
      'from-year': '2026',
      'to-day': '28',
      'to-month': '11',
      'to-year': '2026',
    });
    expect(f.kind === 'valid' && f.criteria).toEqual({
      subject: '9434765919',
      centre: 'osmondthorpe',
      from: new Date('2026-06-29T23:00:00Z'), // midnight BST
      before: new Date('2026-11-29T00:00:00Z'), // the day after the last, midnight GMT
    });
    expect(londonMidnight(2026, 12, 32)).toEqual(new Date('2027-01-01T00:00:00Z'));
  });

  it('reads a feed, a rule and an event type from their lists; anything else is an error linked to its field', () => {
    const choices = { feedIds: new Set(['northgate-maternity']), ruleIds: new Set(['offer-of-support']) };
    const ok = readAuditSearch(
      { search: '1', feed: 'northgate-maternity', rule: 'offer-of-support', eventType: 'delivered' },
      centres,
      now,
      choices,
    );
    expect(ok.kind === 'valid' && ok.criteria).toEqual({ feed: 'northgate-maternity', rule: 'offer-of-support', action: 'delivered' });
    const bad = readAuditSearch({ search: '1', feed: 'elsewhere', rule: 'made-up', eventType: 'eaten' }, centres, now, choices);
    expect(bad.kind === 'invalid' && bad.errors).toEqual([
      { text: 'Select a feed from the list', href: '#feed' },
      { text: 'Select a rule from the list', href: '#rule' },
      { text: 'Select an event type from the list', href: '#eventType' },
    ]);
  });

  it('gives GOV.UK errors linked to the field at fault', () => {
    const f = search({ nhsNumber: '12345', centre: 'atlantis', 'from-day': '31', 'from-month': '2', 'from-year': '2026', 'to-month': '3' });
    expect(f.kind).toBe('invalid');
    if (f.kind !== 'invalid') return;
    expect(f.errors).toEqual([
      { text: 'NHS number must be 10 digits, like 943 476 5919', href: '#nhsNumber' },
      { text: 'Select a centre from the list', href: '#centre' },
      { text: 'Date from must be a real date', href: '#from-day' },
      { text: 'Date to must include a day and year', href: '#to-day' },
    ]);
    expect(Object.keys(f.fieldErrors)).toEqual(['nhsNumber', 'centre', 'from', 'to']);
    expect(search({ nhsNumber: '9434765918' }).kind === 'invalid').toBe(true); // wrong check digit
    const order = search({ 'from-day': '2', 'from-month': '3', 'from-year': '2026', 'to-day': '1', 'to-month': '3', 'to-year': '2026' });
    expect(order.kind === 'invalid' && order.errors[0]?.text).toBe('Date to must be the same as or after date from');
    const future = search({ 'from-day': '1', 'from-month': '1', 'from-year': '2027' });
    expect(future.kind === 'invalid' && future.errors[0]?.text).toBe('Date from must be today or in the past');
    const shortYear = search({ 'from-day': '1', 'from-month': '1', 'from-year': '26' });
    expect(shortYear.kind === 'invalid' && shortYear.errors[0]).toEqual({ text: 'Year must include 4 numbers', href: '#from-year' });
  });

  it('keeps what was typed (cut to a sane length) to fill the form again', () => {
    const f = search({ nhsNumber: 'x'.repeat(10_000) });
    expect(f.values.nhsNumber).toHaveLength(40);
  });
});

describe('The trail in sentences', () => {
  const names: AuditNames = {
    inboxName: (id) => ({ osmondthorpe: 'Osmondthorpe Family Hub' })[id],
    feedName: (id) => ({ 'northgate-maternity': 'Northgate maternity' })[id],
    ruleDescription: (id) => (id === 'offer-of-support' ? 'A live birth: the covering centre is offered the dataset.' : undefined),
  };
  const at = new Date('2026-11-29T09:31:05Z');
  const event = (e: Partial<AuditEvent>): AuditEvent => ({ seq: 1, at, actor: 'system:worker', action: 'read', ...e });

  it('names a person by name, with role and centre; a feed, an API client and Stork itself in words', () => {
    expect(actorInWords(event({ actor: 'user:abc', recipient: 'osmondthorpe', details: { name: 'Olivia Brown' } }), names)).toBe(
      "Olivia Brown (children's centre worker, Osmondthorpe Family Hub)",
    );
    expect(actorInWords(event({ actor: 'user:abc', details: { name: 'Iris', role: 'ig-lead' } }), names)).toBe(
      'Iris (information governance lead)',
    );
    expect(actorInWords(event({ actor: 'user:abc' }), names)).toBe('a person whose name was not recorded');
    expect(actorInWords(event({ actor: 'feed:northgate-maternity' }), names)).toBe('the feed Northgate maternity');
    expect(actorInWords(event({ actor: 'client:osmondthorpe' }), names)).toBe('the API client osmondthorpe');
    expect(actorInWords(event({ actor: 'system:intake' }), names)).toBe('Stork (intake)');
  });

  it('writes one sentence an event, in London time, with the rule, rulebook version and lawful basis beside it', () => {
    expect(londonDateTime(at)).toBe('29 November 2026 at 09:31:05');
    expect(londonDateTime(new Date('2026-07-01T08:00:00Z'))).toBe('1 July 2026 at 09:00:00');
    expect(describeEvent(event({ actor: 'user:abc', recipient: 'osmondthorpe', details: { name: 'Olivia Brown' } }), names).sentence).toBe(
      "Read by Olivia Brown (children's centre worker, Osmondthorpe Family Hub) on 29 November 2026 at 09:31:05.",
    );
    expect(describeEvent(event({ actor: 'client:osmondthorpe', recipient: 'osmondthorpe' }), names).sentence).toBe(
      'Read at Osmondthorpe Family Hub by the API client osmondthorpe on 29 November 2026 at 09:31:05.',
    );
    expect(describeEvent(event({ actor: 'feed:northgate-maternity', action: 'received' }), names).sentence).toBe(
      'Message received from the feed Northgate maternity on 29 November 2026 at 09:31:05.',
    );
    const delivered = describeEvent(
      event({
        action: 'delivered',
        recipient: 'osmondthorpe',
        ruleId: 'offer-of-support',
        rulebookVersion: 'offer-of-support@1.0.0',
        lawfulBasis: 'UK GDPR Art 6(1)(e)',
      }),
      names,
    );
    expect(delivered).toEqual({
      seq: 1,
      at: at.toISOString(),
      sentence: 'Disclosed to Osmondthorpe Family Hub by Stork (processing) on 29 November 2026 at 09:31:05.',
      rule: 'offer-of-support: A live birth: the covering centre is offered the dataset.',
      rulebookVersion: 'offer-of-support@1.0.0',
      lawfulBasis: 'UK GDPR Art 6(1)(e)',
    });
    expect(describeEvent(event({ action: 'decided', ruleId: 'retired-rule' }), names).rule).toBe('retired-rule');
  });

  it('says what an update, a move and an update about a baby not notified did', () => {
    const sentence = (e: Partial<AuditEvent>) => describeEvent(event({ actor: 'system:worker', ...e }), names).sentence;
    expect(sentence({ action: 'updated', outcome: 'record-updated' })).toMatch(/^Updated by a later message about the baby/);
    expect(sentence({ action: 'withdrawn', outcome: 'moved-away', recipient: 'osmondthorpe' })).toMatch(
      /^Withdrawn from Osmondthorpe Family Hub because the notification moved/,
    );
    expect(sentence({ action: 'not-relevant', outcome: 'update-not-applied' })).toMatch(/^An update about a baby Stork has not notified/);
    // A disclosure of an updated record to an inbox keeps its sentence.
    expect(sentence({ action: 'updated', recipient: 'osmondthorpe' })).toMatch(/^The updated record disclosed to the centre/);
  });
});
