-- name: typescript_api_functions
-- Every plain function of the api schema (what PostgREST exposes as /rpc), in a stable
-- order, with its arguments in declaration order: name ('' when unnamed), mode
-- (i in, o out, b inout, v variadic, t a column of `returns table`) and type. Only the
-- last `input_defaults` input arguments have defaults (pg_proc.pronargdefaults).
select p.proname as name,
       p.oid::pg_catalog.regprocedure::text as signature,
       p.proretset as returns_set,
       p.prorettype::integer as return_type,
       p.pronargdefaults::integer as input_defaults,
       coalesce(
         pg_catalog.jsonb_agg(
           pg_catalog.jsonb_build_object(
             'name', coalesce(p.proargnames[arg.position], ''),
             'mode', coalesce(p.proargmodes[arg.position], 'i'),
             'type', arg.type::integer)
           order by arg.position)
         filter (where arg.position is not null),
         '[]'::jsonb) as args
  from pg_catalog.pg_proc p
  left join lateral pg_catalog.unnest(
         coalesce(p.proallargtypes, p.proargtypes::pg_catalog.oid[]))
         with ordinality as arg(type, position) on true
 where p.pronamespace = 'api'::pg_catalog.regnamespace
   and p.prokind = 'f'
 group by p.oid
 order by p.proname, signature;

-- name: typescript_types
-- What the generator needs to know of the types with these oids: enums' labels,
-- arrays' element type, domains' base type, composites' attributes (in order).
select t.oid::integer as oid,
       n.nspname as schema,
       t.typname as name,
       t.typtype as kind,
       t.typelem::integer as element,
       t.typbasetype::integer as base,
       array(
         select e.enumlabel::text from pg_catalog.pg_enum e
          where e.enumtypid = t.oid order by e.enumsortorder) as labels,
       coalesce((
         select pg_catalog.jsonb_agg(
                  pg_catalog.jsonb_build_object('name', a.attname, 'type', a.atttypid::integer)
                  order by a.attnum)
           from pg_catalog.pg_attribute a
          where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped),
         '[]'::jsonb) as attributes
  from pg_catalog.pg_type t
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
 where t.oid = any (%(oids)s::pg_catalog.oid[]);

-- name: typescript_api_types
-- The enums and composite types declared in the api schema, and its tables and views
-- (which the generator refuses: it covers functions only).
select t.oid::integer as oid, t.typtype as kind
  from pg_catalog.pg_type t
 where t.typnamespace = 'api'::pg_catalog.regnamespace
   and t.typtype in ('e', 'c')
   and (t.typrelid = 0
        or (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')
 order by t.typname;

-- name: typescript_api_relations
select c.relname::text as name
  from pg_catalog.pg_class c
 where c.relnamespace = 'api'::pg_catalog.regnamespace
   and c.relkind in ('r', 'p', 'v', 'm', 'f')
 order by c.relname;
