-- Queries of the REST adapter (pyproj_rpc/rest).

-- name: rest_health
-- The database answers and holds the RPC contract (the api schema is migrated).
select to_regprocedure('api.get_current_status(uuid)') is not null as ready;
