-- One query per api function, called with named arguments as PostgREST does.
-- Every argument is passed; NULL means the function's default.

-- name: rpc_activate_pause
select api.activate_pause(
  mentor_id => %(mentor_id)s,
  reason => %(reason)s,
  expected_return_date => %(expected_return_date)s,
  force => coalesce(%(force)s, false),
  idempotency_key => %(idempotency_key)s
) as result;

-- name: rpc_lift_pause
select api.lift_pause(
  mentor_id => %(mentor_id)s,
  reason => %(reason)s,
  idempotency_key => %(idempotency_key)s
) as result;

-- name: rpc_reactivate_mentor
select api.reactivate_mentor(
  mentor_id => %(mentor_id)s,
  reason => %(reason)s,
  idempotency_key => %(idempotency_key)s
) as result;

-- name: rpc_auto_expire_for_certification
select api.auto_expire_for_certification(mentor_id => %(mentor_id)s) as result;

-- name: rpc_get_current_status
select api.get_current_status(mentor_id => %(mentor_id)s) as result;

-- name: rpc_get_pause_history
select api.get_pause_history(mentor_id => %(mentor_id)s) as result;

-- name: rpc_get_paused_mentors
select result from api.get_paused_mentors(coordinator_id => %(coordinator_id)s) as result;

-- name: rpc_is_transition_allowed
select api.is_transition_allowed(
  current_status => %(current_status)s,
  target_status => %(target_status)s
) as result;

-- name: rpc_expire_lapsed_certifications
select api.expire_lapsed_certifications(batch_size => coalesce(%(batch_size)s, 500)) as result;
