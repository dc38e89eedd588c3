-- name: transition_rules
-- The state machine, in the order of the enums (active, paused, expired_cert; mentor first).
select t.from_status::text, t.to_status::text, t.actor_kind::text, t.certification::text,
       t.own_pause_only, t.description
from mentoring.transitions t
order by t.from_status, t.to_status, t.actor_kind;
