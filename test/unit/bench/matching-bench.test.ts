import { datasets, parseCsv } from '../../bench/matching/datasets.js';
import { runDataset } from '../../bench/matching/evaluate.js';

describe('bench:matching: reading the linkage corpus and counting', () => {
  it('reads quoted CSV (commas and doubled quotes inside quotes) and Febrl 0.2.1 spacing', () => {
    expect(parseCsv('"a","b"\n"x, 1st baron","say ""hi"""\n')).toEqual([{ a: 'x, 1st baron', b: 'say "hi"' }]);
    expect(parseCsv('rec_id, given_name\nrec-1-org,  elie\r\nrec-1-dup-0, ellie\n')).toEqual([
      { rec_id: 'rec-1-org', given_name: 'elie' },
      { rec_id: 'rec-1-dup-0', given_name: 'ellie' },
    ]);
  });

  it('Febrl 0.4.2 C_1000: truth from the ids (1,372 pairs, NOTES §3), blocking losses counted, figures consistent', () => {
    const ds = datasets().find((d) => d.name.startsWith('Febrl 0.4.2 C_1000 '));
    if (!ds) throw new Error('C_1000 missing from the bench');
    const r = runDataset(ds, { randomPairs: 50_000 });
    expect(r.truePairs).toBe(1372);
    for (const m of [r.atModel, r.best]) {
      expect(m.tp + m.fn).toBe(1372);
      expect(m.tp).toBeLessThanOrEqual(r.blockedTrue);
      expect(m.f1).toBeCloseTo((2 * m.tp) / (2 * m.tp + m.fp + m.fn), 10);
    }
    // Christen's supervised SVM: F 0.944 on this set
    expect(r.best.f1).toBeGreaterThanOrEqual(0.944);
  });
});
