// Violates adapters-meet-only-through-ports: one adapter imports another instead of a port.
import { store } from '../../store/db.js';

export const route = { store };
