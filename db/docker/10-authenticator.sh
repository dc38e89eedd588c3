#!/bin/sh
# First start of the compose database (docker-entrypoint-initdb.d): the Supabase
# compatibility objects, and a password for authenticator, PostgREST's login role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --file /pyproj-rpc/compat.sql
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set password="$AUTHENTICATOR_PASSWORD" <<'SQL'
alter role authenticator with password :'password';
SQL
