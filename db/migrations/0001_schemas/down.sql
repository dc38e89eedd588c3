drop schema api cascade;
drop schema mentoring cascade;

notify pgrst, 'reload schema';
