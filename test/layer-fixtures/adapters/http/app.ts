// Allowed: an adapter's own folder (routes/) and src/ports.
import { route } from './routes/route.js';
import type { Store } from '../../src/ports/store.js';

export const app = { route, store: undefined as Store | undefined };
