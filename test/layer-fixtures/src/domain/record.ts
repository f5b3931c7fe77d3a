// Violates domain-imports-only-domain and pure-layers-know-no-adapters-or-config: the domain imports config.
import { setting } from '../config/settings.js';

export const record = { setting };
