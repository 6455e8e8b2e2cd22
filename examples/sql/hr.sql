CREATE TABLE hr_sites (code TEXT, name TEXT, tz TEXT, country TEXT);
CREATE TABLE hr_people (emp_id TEXT, login TEXT, first_name TEXT, last_name TEXT,
  active INTEGER, site_code TEXT, manager TEXT, dept TEXT, email TEXT);
INSERT INTO hr_sites VALUES ('S1', 'Berlin HQ', 'Europe/Berlin', 'Germany'),
  ('S2', 'Austin, TX', 'US/Central', 'United States');
INSERT INTO hr_people VALUES
  ('E001', 'ada', 'Ada', 'Lovelace', 1, 'S1', NULL, 'R&D', 'ada@example.com'),
  ('E002', 'grace', 'Grace', 'Hopper', 1, 'S2', 'ada', 'Navy', 'grace@example.com'),
  ('E003', 'alan', 'Alan', 'Turing', 0, 'S1', 'ada', NULL, NULL);
