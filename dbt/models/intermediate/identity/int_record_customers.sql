{{ config(materialized='view') }}
{#-
    The customer of every source record (order, member row, payment, touch) that carries at least one
    resolvable identifier: the resolved rows of int_record_identity, as int_record_identity_changes stores
    them (a record that lost its identifiers keeps a row there with no status, so it is not here). All
    non-hub identifiers of one record share a component, hence one customer (customer_count, tested to be 1).
-#}

with

record_identity as (

    select * from {{ ref('int_record_identity_changes') }}

),

final as (

    select
        record_key,
        customer_id,
        customer_count
    from record_identity
    where identity_status = 'resolved'

)

select * from final
