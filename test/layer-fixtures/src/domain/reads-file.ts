// Violates pure-layers-do-no-io: the domain reads a file.
import { readFileSync } from 'node:fs';

export const readRecord = (file: string): string => readFileSync(file, 'utf8');
