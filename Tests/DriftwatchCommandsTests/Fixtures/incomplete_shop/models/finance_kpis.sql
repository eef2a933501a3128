{{ config({"tags": ["finance"] if target.name == 'prod' else ["finance_dev"]}) }}
select 1 as id
