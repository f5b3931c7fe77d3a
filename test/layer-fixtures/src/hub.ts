// Allowed: the composition root wires adapters.
import { store } from '../adapters/store/db.js';
import { app } from '../adapters/http/app.js';

export const hub = { store, app };
