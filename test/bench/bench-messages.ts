/**
 * The benchmarks' messages: synthetic UK ITK ADT^A28 newborns from the sample feed RX1|MATERNITY, each a distinct
 * birth that the sample configuration routes to a centre. Shared by the MLLP load generator and the stage costs.
 */
import { describeNewborn } from '../support/synthetic/newborn-adt.js';

// Each is covered by a centre of the sample catchments (postcode, sector and district matches), so every birth ends in a centre inbox.
export const BENCH_POSTCODES = ['LS9 7AB', 'LS9 7TF', 'LS9 8AA', 'LS8 3DR', 'LS9 6AA'] as const;

/**
 * Pre-generates `count` distinct newborns. The baby's NHS number is the birth's identity (a second message
 * with the same number is the same birth and creates no second inbox item), so seeds whose synthetic NHS
 * number was already used are skipped: every message must end as one inbox item.
 */
export function generateNewborns(count: number, controlIdPrefix: string, usedNhs: Set<string>, nextSeed: { value: number }): Buffer[] {
  const out: Buffer[] = [];
  const now = new Date();
  while (out.length < count) {
    const seed = nextSeed.value++;
    const n = describeNewborn({
      seed,
      messageTime: now,
      sendingFacility: 'RX1',
      sendingApplication: 'MATERNITY',
      controlId: `${controlIdPrefix}${out.length}`,
      postcodes: BENCH_POSTCODES,
    });
    if (usedNhs.has(n.baby.nhsNumber)) continue;
    usedNhs.add(n.baby.nhsNumber);
    out.push(Buffer.from(n.text, 'utf8'));
  }
  return out;
}
