-- `pyproj-rpc db logins`: the NOINHERIT logins of the REST adapter and the relay.
-- Names and password verifiers are composed in with psycopg's sql.Identifier and
-- sql.Literal ({login}, {role}, {password}); the password itself never reaches the
-- server: {password} is the SCRAM-SHA-256 verifier computed by libpq.

-- name: login_missing_roles
-- The roles a login is to be granted that do not exist (yet): the Supabase roles come
-- from Supabase or db/supabase/compat.sql, mentoring_relay from the migrations.
select wanted.rolname
from pg_catalog.unnest(%(roles)s::text[]) as wanted(rolname)
where not exists (select from pg_catalog.pg_roles r where r.rolname = wanted.rolname)
order by wanted.rolname;

-- name: login_state
-- An existing role of that name, and the attributes a service login must not have.
select r.rolcanlogin as can_login, r.rolsuper as superuser, r.rolbypassrls as bypassrls,
       r.rolreplication as replication
from pg_catalog.pg_roles r
where r.rolname = %(login)s;

-- name: login_memberships
-- The roles the login is a direct member of.
select granted.rolname
from pg_catalog.pg_auth_members m
join pg_catalog.pg_roles granted on granted.oid = m.roleid
join pg_catalog.pg_roles member on member.oid = m.member
where member.rolname = %(login)s
order by granted.rolname;

-- name: login_create
create role {login} login noinherit nocreatedb nocreaterole password {password};

-- name: login_update
alter role {login} login noinherit nocreatedb nocreaterole password {password};

-- name: login_grant
grant {role} to {login};

-- name: login_revoke
revoke {role} from {login};
