/** The benches' own PostgreSQL housekeeping: a fresh database per run, created and dropped through the admin URL. */
import pg from 'pg';

/** Runs one statement (CREATE or DROP DATABASE) on its own short-lived connection to the admin database. */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The admin URL with its database replaced by `name`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
