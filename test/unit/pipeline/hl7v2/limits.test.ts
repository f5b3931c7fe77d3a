import { feedMapper, loadHubConfig } from '../../../../src/config/hub-config.js';
import { repoRoot } from '../../../../src/config/env.js';
import { assessHl7v2 } from '../../../../src/pipeline/hl7v2/assess-hl7v2.js';
import { readEnvelope, splitSegments, type Envelope } from '../../../../src/pipeline/hl7v2/envelope.js';
import { checkHl7v2Limits, DEFAULT_HL7V2_LIMITS } from '../../../../src/pipeline/hl7v2/limits.js';
import { genuineNewborn, repeatedFieldNewborn } from '../../../support/hostile-mllp.js';

function envelopeOf(text: string): Envelope {
  const r = readEnvelope(text);
  if (!r.ok) throw new Error(`not a readable message: ${JSON.stringify(r.issues)}`);
  return r.envelope;
}

const check = (text: string, limits = { maxSegments: 20, maxRepetitions: 5 }) =>
  checkHl7v2Limits(splitSegments(text), envelopeOf(text), limits);

const MSH = 'MSH|^~\\&|MATERNITY|RX1|STORK|STORK|20261129061824||ADT^A28^ADT_A05|C1|P|2.4';

describe('checkHl7v2Limits', () => {
  it('passes a message at the limits exactly', () => {
    const text = [MSH, 'PID|1||a~b~c~d~e', ...Array.from({ length: 18 }, (_, i) => `NTE|${i + 1}`)].join('\r');
    expect(splitSegments(text)).toHaveLength(20);
    expect(check(text)).toBeUndefined();
  });

  it('names the field, its occurrence and the limit when one field repeats once too often', () => {
    const text = [MSH, 'PID|1||a', 'NK1|1', 'NK1|2|x|y~y~y~y~y~y'].join('\r');
    expect(check(text)).toEqual({
      severity: 'error',
      code: '207',
      message: 'NK1-3 repeats more than 5 times, over the limit of 5 repetitions per field',
      location: { segment: 'NK1', sequence: 2, field: 3 },
    });
  });

  it('counts empty repetitions too (a field of bare repetition separators)', () => {
    expect(check([MSH, 'PID|1||~~~~~'].join('\r'))?.location).toEqual({ segment: 'PID', sequence: 1, field: 3 });
  });

  it('does not count MSH-2 (it holds the repetition character) but does count later MSH fields, numbered as MSH fields', () => {
    expect(check([MSH, 'PID|1'].join('\r'), { maxSegments: 20, maxRepetitions: 1 })).toBeUndefined();
    const text = MSH + '|||||||a~b';
    expect(check(text, { maxSegments: 20, maxRepetitions: 1 })?.location).toEqual({ segment: 'MSH', sequence: 1, field: 19 });
  });

  it('an escaped repetition separator (\\R\\) is text, not a repetition', () => {
    expect(check([MSH, 'PID|1||a\\R\\b\\R\\c\\R\\d\\R\\e\\R\\f'].join('\r'))).toBeUndefined();
  });

  it('uses the message’s own delimiters', () => {
    const text = ['MSH#^*\\&#MATERNITY#RX1#STORK#STORK#20261129061824##ADT^A28#C1#P#2.4', 'PID#1##a*b*c*d*e*f~g'].join('\r');
    expect(check(text)?.message).toBe('PID-3 repeats more than 5 times, over the limit of 5 repetitions per field');
  });

  it('names the segment count, the limit and the first segment past it', () => {
    const text = [MSH, 'PID|1', ...Array.from({ length: 25 }, (_, i) => `NTE|${i + 1}`)].join('\r');
    expect(check(text)).toEqual({
      severity: 'error',
      code: '207',
      message: 'The message has 27 segments, over the limit of 20 segments per message',
      location: { segment: 'NTE', sequence: 19 },
    });
  });

  it('stops counting at the first excess: half a million repetitions cost about as much as one past the limit', () => {
    const text = repeatedFieldNewborn('C2', 500_000);
    const started = process.hrtime.bigint();
    const issue = checkHl7v2Limits(splitSegments(text), envelopeOf(text), DEFAULT_HL7V2_LIMITS);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(issue?.message).toBe('PID-3 repeats more than 100 times, over the limit of 100 repetitions per field');
    expect(ms).toBeLessThan(500); // safety ceiling; a few milliseconds here
  });
});

describe('assessHl7v2 with limits', () => {
  const config = loadHubConfig(repoRoot);
  const mapper = feedMapper(config.mappings);
  const ctx = { feeds: config.feeds, mapper, receivedAt: new Date() };

  it('a genuine sender’s message over a limit is refused (AR, quarantined) before it is mapped, with the feed known', () => {
    let mapped = 0;
    const counting = { ...ctx, mapper: (...args: Parameters<typeof mapper>) => (mapped++, mapper(...args)) };
    const a = assessHl7v2(repeatedFieldNewborn('C3', 500_000), counting);
    expect(a).toMatchObject({ status: 'quarantined', ackCode: 'AR', feed: { id: 'northgate-maternity' } });
    expect(a.reason).toBe('PID-3 repeats more than 100 times, over the limit of 100 repetitions per field');
    expect(a.envelope?.controlId).toBe('C3');
    expect(mapped).toBe(0);
  });

  it('the limits come from the context when given', () => {
    const text = genuineNewborn('C4');
    expect(assessHl7v2(text, ctx).ackCode).toBe('AA');
    const a = assessHl7v2(text, { ...ctx, limits: { maxSegments: 3, maxRepetitions: 100 } });
    expect(a.ackCode).toBe('AR');
    expect(a.issues[0]?.message).toMatch(/^The message has \d+ segments, over the limit of 3 segments per message$/);
  });

  it('a message at the default repetition limit maps as usual', () => {
    expect(assessHl7v2(repeatedFieldNewborn('C5', 100), ctx)).toMatchObject({ status: 'queued', ackCode: 'AA' });
  });
});
