-- Every function of ours searches pg_catalog, then the session's temporary schema last.
--
-- With search_path = '' PostgreSQL still searches the caller's temporary schema FIRST for
-- types and relations (only an explicit pg_temp moves it last), and PUBLIC may create
-- temporary objects: a caller's pg_temp.date domain or pg_temp.mentors view ran inside
-- SECURITY DEFINER code, with the owner's rights. Functions are never looked up in pg_temp.
-- New functions follow the same rule (tests/integration/test_catalog.py checks it).

alter function mentoring.is_time_zone(text) set search_path = pg_catalog, pg_temp;
alter function mentoring.raise_error(text,text,jsonb,text) set search_path = pg_catalog, pg_temp;
alter function mentoring.raise_refusal(jsonb) set search_path = pg_catalog, pg_temp;
alter function mentoring.clean_text(text,text,boolean) set search_path = pg_catalog, pg_temp;
alter function mentoring.organization_today(uuid) set search_path = pg_catalog, pg_temp;
alter function mentoring.certification_coverage(uuid,date) set search_path = pg_catalog, pg_temp;
alter function mentoring.request_role() set search_path = pg_catalog, pg_temp;
alter function mentoring.caller_key() set search_path = pg_catalog, pg_temp;
alter function mentoring.resolve_actor(mentoring.mentors) set search_path = pg_catalog, pg_temp;
alter function mentoring.transition_refusal(mentoring.mentors,mentoring.mentor_status,mentoring.actor_kind,uuid,boolean,date) set search_path = pg_catalog, pg_temp;
alter function mentoring.transition_request(uuid) set search_path = pg_catalog, pg_temp;
alter function mentoring.certifications_lock_mentor() set search_path = pg_catalog, pg_temp;
alter function mentoring.is_trusted_check(regproc) set search_path = pg_catalog, pg_temp;
alter function mentoring.pause_preconditions_validate() set search_path = pg_catalog, pg_temp;
alter function mentoring.pause_findings(uuid) set search_path = pg_catalog, pg_temp;
alter function mentoring.notification_recipients(mentoring.mentors,uuid) set search_path = pg_catalog, pg_temp;
alter function mentoring.notify_coordinators(mentoring.status_events,mentoring.mentors) set search_path = pg_catalog, pg_temp;
alter function mentoring.mentors_before_insert() set search_path = pg_catalog, pg_temp;
alter function mentoring.mentors_new_active_is_certified() set search_path = pg_catalog, pg_temp;
alter function mentoring.mentors_before_update() set search_path = pg_catalog, pg_temp;
alter function mentoring.refuse_audit_change() set search_path = pg_catalog, pg_temp;
alter function mentoring.idempotent_replay(text,uuid,jsonb) set search_path = pg_catalog, pg_temp;
alter function mentoring.idempotent_record(uuid,jsonb) set search_path = pg_catalog, pg_temp;
alter function mentoring.transition_result(mentoring.mentors,mentoring.mentor_status,boolean) set search_path = pg_catalog, pg_temp;
alter function mentoring.request_transition(uuid,mentoring.mentor_status,mentoring.mentor_status[],jsonb) set search_path = pg_catalog, pg_temp;
alter function mentoring.idempotent_transition(text,uuid,jsonb,mentoring.mentor_status,mentoring.mentor_status[]) set search_path = pg_catalog, pg_temp;
alter function mentoring.purge_idempotency_keys(interval) set search_path = pg_catalog, pg_temp;
alter function mentoring.administered_organizations() set search_path = pg_catalog, pg_temp;
alter function mentoring.coordinated_mentors() set search_path = pg_catalog, pg_temp;
alter function mentoring.visible_mentors() set search_path = pg_catalog, pg_temp;
alter function mentoring.member_organizations() set search_path = pg_catalog, pg_temp;
alter function mentoring.claim_outbox(integer,interval) set search_path = pg_catalog, pg_temp;
alter function mentoring.outbox_delivered(bigint[]) set search_path = pg_catalog, pg_temp;
alter function mentoring.outbox_failed(bigint,uuid,text,timestamp with time zone) set search_path = pg_catalog, pg_temp;
alter function mentoring.outbox_release(uuid,bigint[]) set search_path = pg_catalog, pg_temp;
alter function mentoring.outbox_requeue(bigint[]) set search_path = pg_catalog, pg_temp;
alter function mentoring.outbox_purge_delivered(interval) set search_path = pg_catalog, pg_temp;
alter function mentoring.outbox_stats() set search_path = pg_catalog, pg_temp;
alter function mentoring.certified_through(uuid,date) set search_path = pg_catalog, pg_temp;
alter function mentoring.mentors_compute_certified_through() set search_path = pg_catalog, pg_temp;
alter function mentoring.certifications_refresh_mentor() set search_path = pg_catalog, pg_temp;
alter function mentoring.certifications_refresh_all_mentors() set search_path = pg_catalog, pg_temp;
alter function mentoring.organizations_refresh_mentors() set search_path = pg_catalog, pg_temp;
alter function mentoring.remind_overdue_pauses(integer) set search_path = pg_catalog, pg_temp;
alter function api.activate_pause(uuid,text,date,boolean,uuid) set search_path = pg_catalog, pg_temp;
alter function api.lift_pause(uuid,text,uuid) set search_path = pg_catalog, pg_temp;
alter function api.reactivate_mentor(uuid,text,uuid) set search_path = pg_catalog, pg_temp;
alter function api.auto_expire_for_certification(uuid) set search_path = pg_catalog, pg_temp;
alter function api.get_current_status(uuid) set search_path = pg_catalog, pg_temp;
alter function api.get_pause_history(uuid) set search_path = pg_catalog, pg_temp;
alter function api.get_paused_mentors(uuid) set search_path = pg_catalog, pg_temp;
alter function api.is_transition_allowed(text,text) set search_path = pg_catalog, pg_temp;
alter function api.expire_lapsed_certifications(integer) set search_path = pg_catalog, pg_temp;
