#!/usr/bin/env bash
# The console's database roles, created once when the PostgreSQL volume is initialised
# (docker-entrypoint-initdb.d runs this as POSTGRES_USER, the administrator account that
# nothing else uses). Safe to run again by hand, e.g. on a volume made before it existed:
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-roles.sh
#
#   MARTECH_DB_USER (martech)             owns the console's database and its tables; not a
#                                         superuser, may not create roles or databases
#   MARTECH_ACTIVATION_USER               reverse ETL on the console's database: may connect
#     (martech_activation)                and read the views of schema activation, which
#                                         the console's migrations create and grant
#   MARTECH_DB_NAME (martech)             the console's database, owned by MARTECH_DB_USER
set -euo pipefail

: "${MARTECH_DB_PASSWORD:?set MARTECH_DB_PASSWORD}"
: "${MARTECH_ACTIVATION_PASSWORD:?set MARTECH_ACTIVATION_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    --set=db="${MARTECH_DB_NAME:-martech}" \
    --set=owner="${MARTECH_DB_USER:-martech}" \
    --set=owner_password="$MARTECH_DB_PASSWORD" \
    --set=reader="${MARTECH_ACTIVATION_USER:-martech_activation}" \
    --set=reader_password="$MARTECH_ACTIVATION_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') \gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';

SELECT format('CREATE ROLE %I', :'reader')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'reader') \gexec
ALTER ROLE :"reader" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT PASSWORD :'reader_password';
ALTER ROLE :"reader" SET search_path = activation;

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
-- Only the owner and the activation role connect; nobody gets temporary tables by default.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"reader";

\connect :"db"
-- The console's schema is its owner's alone (PostgreSQL 15 and later already keep CREATE
-- from PUBLIC; USAGE goes too). The activation role reads schema activation only.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
