// Violates pure-layers-do-no-io (a database driver) and pure-layers-know-no-adapters-or-config (an adapter).
import pg from 'pg';
import { store } from '../../adapters/store/db.js';

export const stage = { pool: pg.Pool, store };
