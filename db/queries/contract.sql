-- name: contract_functions
-- Every function of the api schema: its arguments (name, type, whether it has a default
-- and which), what it returns, its volatility and whose rights it runs with.
select p.proname as name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) as identity_arguments,
       coalesce(
         (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'name', a.name,
                   'type', pg_catalog.format_type(a.type_oid, null),
                   'has_default', a.position > p.pronargs - p.pronargdefaults)
                 order by a.position)
          from rows from (pg_catalog.unnest(coalesce(p.proargnames, array[]::text[])),
                          pg_catalog.unnest(p.proargtypes::oid[]))
               with ordinality as a(name, type_oid, position)),
         '[]'::jsonb) as arguments,
       pg_catalog.pg_get_expr(p.proargdefaults, 0) as defaults,
       pg_catalog.format_type(p.prorettype, null) as returns,
       p.proretset as returns_set,
       case p.provolatile when 'i' then 'immutable' when 's' then 'stable' else 'volatile' end
         as volatility,
       case when p.prosecdef then 'definer' else 'invoker' end as security,
       pg_catalog.obj_description(p.oid, 'pg_proc') as description
from pg_catalog.pg_proc p
where p.pronamespace = 'api'::regnamespace
  and p.prokind = 'f'
order by p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid);

-- name: contract_error_codes
-- Every error code the api raises, with the HTTP status PostgREST answers it with.
select e.code, e.http_status, e.description
from mentoring.error_codes e
order by e.code;
