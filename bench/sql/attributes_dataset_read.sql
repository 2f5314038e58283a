-- What a typed side table for attributes would cost the read side (issue 19, bench/RESULTS-attributes.md): a
-- dataset (dashboards/kpi/sql/dataset_*.sql) copies each row's `attributes` jsonb; from a side table (row id + a
-- column per attribute key) it would have to join and build the jsonb for every row. 1M orders-like rows with
-- five attributes (text, text, number, boolean, date), generated; scratch tables x*/d*, dropped at the end.
--     psql -d SCRATCH_DATABASE -f bench/sql/attributes_dataset_read.sql
\timing on
drop table if exists xo, xa, d1, d2, d3;
create table xo as select g as id, 'SO-'||lpad(g::text,8,'0') as external_id, date '2021-01-01' + (g%1500) as order_date, round((g%100000)/7.0,2)::numeric(14,2) as amount,
 jsonb_strip_nulls(jsonb_build_object('region', (array['North','South','East','West'])[1+g%4], 'channel', (array['store','web','phone'])[1+g%3], 'weight', round((g%10000)/100.0,2), 'gift', (g%7=0), 'promised', date '2021-01-01' + (g%1400))) as attributes
 from generate_series(1,1000000) g;
create table xa as select id as row_id, attributes->>'region' as region, attributes->>'channel' as channel, (attributes->>'weight')::numeric as weight, (attributes->>'gift')::boolean as gift, (attributes->>'promised')::date as promised from xo;
alter table xa add primary key (row_id);
vacuum analyze xo; vacuum analyze xa; checkpoint;
\echo dataset from the jsonb column
create table d1 as select o.id, o.order_date, o.amount, o.attributes from xo o;
\echo dataset from the side table, to_jsonb of the row
create table d2 as select o.id, o.order_date, o.amount, coalesce(jsonb_strip_nulls(to_jsonb(a) - 'row_id'), '{}'::jsonb) as attributes from xo o left join xa a on a.row_id = o.id;
\echo dataset from the side table, jsonb_build_object per key
create table d3 as select o.id, o.order_date, o.amount, coalesce(jsonb_strip_nulls(jsonb_build_object('region', a.region, 'channel', a.channel, 'weight', a.weight, 'gift', a.gift, 'promised', a.promised)), '{}'::jsonb) as attributes from xo o left join xa a on a.row_id = o.id;
drop table d1, d2, d3; checkpoint;
\echo again: jsonb column
create table d1 as select o.id, o.order_date, o.amount, o.attributes from xo o;
\echo again: to_jsonb
create table d2 as select o.id, o.order_date, o.amount, coalesce(jsonb_strip_nulls(to_jsonb(a) - 'row_id'), '{}'::jsonb) as attributes from xo o left join xa a on a.row_id = o.id;
\echo again: jsonb_build_object
create table d3 as select o.id, o.order_date, o.amount, coalesce(jsonb_strip_nulls(jsonb_build_object('region', a.region, 'channel', a.channel, 'weight', a.weight, 'gift', a.gift, 'promised', a.promised)), '{}'::jsonb) as attributes from xo o left join xa a on a.row_id = o.id;
select (select count(*) from d1 join d2 using (id) where d1.attributes <> d2.attributes) as differ_2, (select count(*) from d1 join d3 using (id) where d1.attributes <> d3.attributes) as differ_3;
drop table xo, xa, d1, d2, d3;
