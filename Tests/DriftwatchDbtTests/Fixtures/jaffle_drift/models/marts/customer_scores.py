# a python model: dbt.ref("ghost_in_comment") is not a dependency
def model(dbt, session):
    dbt.config(materialized="table")
    orders = dbt.ref("stg_orders")
    customers = dbt.ref('dim_customers', v=2)
    note = "dbt.ref('ghost_in_string')"
    return orders.join(customers, "customer_id")
