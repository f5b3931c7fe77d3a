// Violates only-the-composition-root-imports-adapters: intake uses an adapter instead of a port.
import { store } from '../../adapters/store/db.js';

export const intake = { store };
