export const setting = 'fixture';
