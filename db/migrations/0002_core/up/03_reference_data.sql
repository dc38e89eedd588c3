-- The state machine and the error table: the single sources for the functions,
-- is_transition_allowed and the diagram.

insert into mentoring.transitions
  (from_status, to_status, actor_kind, certification, own_pause_only, description)
values
  ('active', 'paused', 'mentor', 'any', false, 'a mentor pauses themselves'),
  ('active', 'paused', 'coordinator', 'any', false, 'an assigned coordinator pauses a mentor'),
  ('active', 'paused', 'admin', 'any', false, 'an admin pauses a mentor of the organization'),
  ('paused', 'active', 'mentor', 'valid', true, 'a mentor ends a pause they started'),
  ('paused', 'active', 'coordinator', 'valid', false, 'an assigned coordinator lifts a pause'),
  ('paused', 'active', 'admin', 'valid', false, 'an admin lifts a pause'),
  ('active', 'expired_cert', 'system', 'lapsed', false, 'the scheduler expires a lapsed mentor'),
  ('active', 'expired_cert', 'admin', 'lapsed', false, 'an admin expires a lapsed mentor'),
  ('paused', 'expired_cert', 'system', 'lapsed', false, 'the scheduler expires a lapsed mentor'),
  ('paused', 'expired_cert', 'admin', 'lapsed', false, 'an admin expires a lapsed mentor'),
  ('expired_cert', 'active', 'coordinator', 'valid', false,
   'an assigned coordinator reactivates a recertified mentor'),
  ('expired_cert', 'active', 'admin', 'valid', false, 'an admin reactivates a recertified mentor');

insert into mentoring.error_codes (code, http_status, description) values
  ('invalid_input', 400, 'An argument is missing, malformed or out of range.'),
  ('unauthenticated', 401, 'The request has no signed-in user.'),
  ('forbidden', 403, 'The caller may see the mentor but not take this transition.'),
  ('mentor_not_found', 404, 'No such mentor, or not one the caller may see.'),
  ('transition_not_allowed', 409, 'The state machine has no such transition from the current status.'),
  ('precondition_failed', 409, 'A pause precondition blocks the pause; staff may force it.'),
  ('certification_lapsed', 409, 'The transition needs a valid certification today.'),
  ('certification_valid', 409, 'The certification is still valid: nothing to expire.'),
  ('concurrent_update', 409, 'Another change to the mentor got in the way; retry.'),
  ('idempotency_conflict', 422, 'The idempotency key was used with other arguments.');
