#!/bin/sh
# docker-compose's postgres runs this once, when it creates the database: the role the application
# connects as (docs/deployment.md). Its rights are granted by every `migrate` (DATABASE_APP_ROLE).
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v password="${APP_DB_PASSWORD:-clinic_app}" <<'SQL'
CREATE ROLE clinic_app LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
SQL
