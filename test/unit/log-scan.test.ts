import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scanLogs, testPersonalData } from '../support/log-scan.js';
import { describeNewborn } from '../support/synthetic/newborn-adt.js';

/** The whole-run log scan (jest's global teardown) finds planted personal data, and none in ordinary log lines. */
describe('log scan for personal data', () => {
  const pd = testPersonalData();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stork-scan-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('collects from the fixtures, the corpus and the synthetic generators', () => {
    expect(pd.nhsNumbers.has('9990047219')).toBe(true); // test/fixtures/sample-newborn-a28.hl7
    expect(pd.names.has('ASHWORTH')).toBe(true);
    expect(pd.birthDates.has('19960402')).toBe(true);
    expect(pd.postcodes.has('LS97AB')).toBe(true);
    expect(pd.phones.has('01134960781')).toBe(true);
    expect(pd.nhsNumbers.has('9077844449')).toBe(true); // corpus nhs-numbers
    expect(pd.nhsNumbers.has(describeNewborn({ seed: 42 }).baby.nhsNumber)).toBe(true);
  });

  test('finds each kind planted in a log line, and nothing in ordinary lines', () => {
    const n = describeNewborn({ seed: 7 });
    const clean = [
      '{"level":30,"time":"1996-04-02T10:00:00.000Z","service":"stork","messageId":"0b6c1c1e-8f7e-4a59-9a0e-0d3f0f7f2a11","feed":"northgate","bytes":1234,"msg":"message received"}',
      '{"level":20,"service":"stork","remotePort":51234,"remoteAddress":"127.0.0.1","msg":"mllp connection opened"}',
    ];
    const planted = [
      `{"level":30,"service":"stork","msg":"oops","nhs":"${n.baby.nhsNumber}"}`,
      '{"level":30,"service":"stork","msg":"oops","name":"ASHWORTH"}',
      '{"level":30,"service":"stork","msg":"oops","dob":"19960402"}',
      '{"level":30,"service":"stork","msg":"oops","at":"LS9 7AB"}',
      '{"level":30,"service":"stork","msg":"oops","phone":"0113 496 0781"}',
    ];
    writeFileSync(path.join(dir, 'a.log'), [...clean, ...planted].join('\n') + '\n');
    const result = scanLogs(dir, pd);
    expect(result.hits.map((h) => [h.line, h.kind])).toEqual([
      [3, 'nhsNumbers'],
      [4, 'names'],
      [5, 'birthDates'],
      [6, 'postcodes'],
      [7, 'phones'],
    ]);
  });
});
