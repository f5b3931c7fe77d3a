import type { Store } from '../../src/ports/store.js';

export const store: Store = { save: () => Promise.resolve() };
