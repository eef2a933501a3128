-- The connector's raw tables: no primary keys, no unique columns.
create schema raw;
create table raw.deals (deal_id integer, stage_id integer, amount numeric, owner_id integer);
create table raw.stages (stage_id integer, label text, probability integer);
create table raw.owners (owner_id integer, owner_name text);
insert into raw.owners values (10, 'Ada'), (11, 'Grace'), (12, 'Edsger'), (13, 'Barbara');
insert into raw.stages values (1, 'qualified', 20), (2, 'proposal', 50), (3, 'won', 100);
insert into raw.deals values
  (1, 1, 100.00, 10), (2, 1, 250.50, 11), (3, 2, 80.00, 10), (4, 2, 1200.00, 12), (5, 3, 990.00, 11),
  (6, 3, 45.25, 12), (7, 1, 310.00, 10), (8, 2, 75.75, 13), (9, 3, 600.00, 13), (10, 3, 20.00, 10);
