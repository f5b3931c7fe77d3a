/**
 * How an agreement's safety rules are proved on load: its rules are run under every combination of its conditions
 * (each holding or not, `always` always holding; conditions treated as independent, which is conservative), and the
 * first rule whose conditions all hold is the one that would decide.
 */

/** One combination: the conditions that hold, and the first rule matching them (`rule` undefined, `index` -1: none). */
export interface FirstMatch<C extends string, R> {
  holds: ReadonlySet<C>;
  rule: R | undefined;
  index: number;
}

/** Every combination of `conditions`, in a fixed order, with the first of `rules` that matches it. */
export function* firstMatchUnderEveryCombination<C extends string, R extends { when: readonly C[] }>(
  conditions: readonly C[],
  rules: readonly R[],
): Generator<FirstMatch<C, R>> {
  const always = conditions.filter((c) => c === 'always');
  const free = conditions.filter((c) => c !== 'always');
  for (let mask = 0; mask < 1 << free.length; mask++) {
    const holds = new Set<C>(always);
    free.forEach((c, bit) => {
      if (mask & (1 << bit)) holds.add(c);
    });
    const index = rules.findIndex((r) => r.when.every((c) => holds.has(c)));
    yield { holds, rule: rules[index], index };
  }
}
