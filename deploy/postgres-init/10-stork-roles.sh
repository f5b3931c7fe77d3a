#!/bin/sh
# Stork's database roles, created by the postgres image when it initialises an empty data folder (first start only;
# see docker-compose.yml). The README ("Database roles") has the same SQL for an operator's own server.
#   stork_owner  owns the database and its schema: Stork's migrations run as it (STORK_MIGRATION_DATABASE_URL).
#   stork_app    the hub's own login (DATABASE_URL): owns nothing; at start-up the owner grants it exactly what the
#                app_privileges table lists (SELECT and INSERT only on the audit trail).
# The passwords come from this container's environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" -v owner_password="$DB_OWNER_PASSWORD" -v app_password="$DB_APP_PASSWORD" <<'SQL'
CREATE ROLE stork_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE stork_app LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO stork_owner;
ALTER SCHEMA public OWNER TO stork_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO stork_app;
SQL
