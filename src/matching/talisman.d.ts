/** Type declarations for the parts of `talisman` (CommonJS, no bundled types) the matcher uses. */
declare module 'talisman/metrics/jaro-winkler.js' {
  /** Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, boost threshold 0.7). */
  const jaroWinkler: (a: string, b: string) => number;
  export default jaroWinkler;
}
declare module 'talisman/metrics/damerau-levenshtein.js' {
  /** Damerau–Levenshtein distance (insert, delete, substitute, adjacent transposition). */
  const damerauLevenshtein: (a: string, b: string) => number;
  export default damerauLevenshtein;
}
declare module 'talisman/phonetics/double-metaphone.js' {
  /** Double Metaphone: [primary, alternate] codes, 4 characters at most. */
  const doubleMetaphone: (word: string) => [string, string];
  export default doubleMetaphone;
}
