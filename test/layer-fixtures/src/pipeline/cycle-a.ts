// Violates no-circular: cycle-a ⇄ cycle-b.
import { b } from './cycle-b.js';

export const a = (): string => b();
