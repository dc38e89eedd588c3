-- A coordinator's assignments, read from the index alone.
--
-- get_paused_mentors (caller_paused_mentors, and the policies' `coordinator_id = uid`)
-- finds a coordinator's mentors through mentor_coordinators_coordinator_id_idx, which holds
-- only coordinator_id: each assignment then costs a heap page. At a million mentors, 200
-- assignments were 199 heap pages, 1.3 ms of a 3.4 ms listing (bench reads, EXPLAIN).
-- With mentor_id in the index the scan is index-only; the old index is its prefix.
--
-- Without CONCURRENTLY (Alembic runs each revision in one transaction): the build holds a
-- SHARE lock on mentor_coordinators, so that assignment writes (the staffing feature's,
-- rare) wait for it, about a second per million assignments; reads and status changes go
-- on. The drop then holds ACCESS EXCLUSIVE for an instant (lock_timeout bounds the wait).
-- squawk-ignore require-concurrent-index-creation
create index mentor_coordinators_coordinator_mentor_idx
  on mentoring.mentor_coordinators (coordinator_id, mentor_id);
-- squawk-ignore require-concurrent-index-deletion
drop index mentoring.mentor_coordinators_coordinator_id_idx;
