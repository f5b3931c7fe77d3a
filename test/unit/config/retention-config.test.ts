import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../../src/config/env.js';
import { configFiles, loadHubConfig } from '../../../src/config/hub-config.js';
import { loadRetention } from '../../../src/config/retention.js';
import { cutoff, cutoffs, dailyCron } from '../../../src/domain/retention-policy.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

const sample = JSON.parse(readFileSync(path.join(repoRoot, 'mappings', 'retention.json'), 'utf8')) as Record<string, unknown>;

/** A copy of the sample configuration whose retention.json is `content`. */
function withRetention(content: unknown): { dir: string; file: string } {
  const dir = copySampleConfig('stork-retention-');
  const file = configFiles(dir).retention;
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return { dir, file };
}

const periods = (over: Record<string, unknown>) => ({ ...sample, periods: { ...(sample.periods as object), ...over } });

describe('mappings/retention.json', () => {
  it('the sample loads: daily at 02:30 London, raw bodies 90 days, notification content 24 months, with a content hash', () => {
    const r = loadRetention(configFiles(repoRoot).retention);
    expect(r?.config.schedule).toEqual({ dailyAt: '02:30', timeZone: 'Europe/London' });
    expect(r?.config.periods.rawMessages).toEqual({ days: 90 });
    expect(r?.config.periods.notificationContent).toEqual({ months: 24 });
    expect(r?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loadHubConfig(repoRoot).retention?.sha256).toBe(r?.sha256);
  });

  it('the hash ignores $comment but follows every setting', () => {
    const a = withRetention({ ...sample, $comment: 'another comment' });
    const b = withRetention(periods({ rawMessages: { days: 91 } }));
    const base = loadRetention(configFiles(repoRoot).retention)?.sha256;
    expect(loadRetention(a.file)?.sha256).toBe(base);
    expect(loadRetention(b.file)?.sha256).not.toBe(base);
  });

  it.each([
    ['a zero period', periods({ rawMessages: { days: 0 } }), '/periods/rawMessages'],
    ['a negative period', periods({ notificationContent: { months: -3 } }), '/periods/notificationContent'],
    ['a zero antenatal period', periods({ antenatalContent: { months: 0 } }), '/periods/antenatalContent'],
    ['a period in weeks', periods({ webSessions: { weeks: 2 } }), '/periods/webSessions'],
    ['a missing period', { ...sample, periods: { rawMessages: { days: 90 } } }, '/periods'],
    ['a bad time', { ...sample, schedule: { dailyAt: '25:00', timeZone: 'Europe/London' } }, '/schedule/dailyAt'],
    ['an unknown time zone', { ...sample, schedule: { dailyAt: '02:30', timeZone: 'Europe/Leeds' } }, '/schedule/timeZone'],
    ['a batch of nothing', { ...sample, batchSize: 0 }, '/batchSize'],
    [
      'raw bodies kept less than the replay horizon',
      periods({ rawMessages: { days: 7 } }),
      '/periods/rawMessages: must be at least 14 days',
    ],
    ['quarantined kept less than the replay horizon', periods({ quarantinedMessages: { days: 13 } }), '/periods/quarantinedMessages'],
  ])('%s stops start-up naming the file and the field', (_what, content, field) => {
    const { dir, file } = withRetention(content);
    const err = configError(() => loadHubConfig(dir));
    expect(err.message).toContain(file);
    expect(err.message).toContain(`field ${field}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad JSON stops start-up naming the file', () => {
    const { dir, file } = withRetention('{ "schedule": ');
    expect(configError(() => loadHubConfig(dir)).message).toContain(`${file}: not valid JSON`);
  });

  it('a folder without retention.json loads, with no retention (the hub warns that nothing is purged)', () => {
    const { dir, file } = withRetention(sample);
    rmSync(file);
    expect(loadHubConfig(dir).retention).toBeUndefined();
  });
});

describe('retention cut-offs', () => {
  const at = new Date('2026-03-31T02:30:00Z');
  it('days are 24-hour days; months are calendar months, the 31st falling back to the month’s last day', () => {
    expect(cutoff(at, { days: 90 }).toISOString()).toBe('2025-12-31T02:30:00.000Z');
    expect(cutoff(at, { months: 1 }).toISOString()).toBe('2026-02-28T02:30:00.000Z');
    expect(cutoff(at, { months: 24 }).toISOString()).toBe('2024-03-31T02:30:00.000Z');
    expect(cutoff(new Date('2026-02-28T00:00:00Z'), { months: 12 }).toISOString()).toBe('2025-02-28T00:00:00.000Z');
  });
  it('each target takes its own period', () => {
    const r = loadRetention(configFiles(repoRoot).retention);
    if (!r) throw new Error('no sample retention');
    const c = cutoffs(at, r.config.periods);
    expect(c['quarantined-messages'].toISOString()).toBe('2026-03-01T02:30:00.000Z');
    expect(c.notifications.toISOString()).toBe('2024-03-31T02:30:00.000Z');
    expect(c['antenatal-notifications'].toISOString()).toBe('2025-03-31T02:30:00.000Z');
  });
  it('without antenatalContent, antenatal notifications take the notifications’ period', () => {
    const { antenatalContent: _a, ...rest } = (sample.periods ?? {}) as Record<string, unknown>;
    const { dir, file } = withRetention({ ...sample, periods: rest });
    const r = loadRetention(file);
    if (!r) throw new Error('no retention');
    expect(r.config.periods.antenatalContent).toBeUndefined();
    const c = cutoffs(at, r.config.periods);
    expect(c['antenatal-notifications'].toISOString()).toBe(c.notifications.toISOString());
    rmSync(dir, { recursive: true, force: true });
  });
  it('the daily time becomes a cron pattern with seconds', () => {
    expect(dailyCron('02:30')).toBe('0 30 2 * * *');
    expect(dailyCron('23:05')).toBe('0 5 23 * * *');
  });
});
