{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys('order_key', ref('int_orders_unioned'), counted=true) }}",
    )
}}

{#-
    One row per order of every channel with its customer (null when none of the order's identifiers
    resolves: such orders still count in channel revenue; identity_status says why). No personal
    identifiers here: phones, nicks, accounts and openids stay in intermediate / restricted tables.
    Incremental by change detection (macros/incremental_changes.sql). A row depends on its
    int_orders_unioned row and its record's identity outcome only, so a run reads the orders that model
    wrote after this table's newest `_built_at` and the orders whose record int_record_identity_changes
    stamped after it, not every order joined to today's identity again, and writes those that differ
    from the stored rows.
-#}

with

orders as (

    select unioned.*
    from {{ ref('int_orders_unioned') }} as unioned
    {% if is_incremental() %}
    -- orders that model wrote since, and orders whose record's identity outcome changed since (an identity
    -- merge, a new hub)
    {%- set since = last_build_stamp() %}
    where {{ written_since_last_build('unioned', since) }}
        or unioned.order_key in (
            {{ keys_written_since_last_build(ref('int_record_identity_changes'), 'record_key', since) }}
        )
    {% endif %}

),

record_identity as (

    select * from {{ ref('int_record_identity_changes') }}

),

final as (

    select
        orders.order_key,
        record_identity.customer_id,
        orders.channel,
        orders.shop_id,
        orders.shop_name,
        orders.source_order_id,
        orders.ordered_at,
        orders.paid_at,
        orders.order_status,
        orders.gross_amount,
        orders.refund_amount,
        orders.net_amount,
        orders.item_count,
        orders.is_purchase,
        coalesce(record_identity.identity_status, 'no_identifier') as identity_status,
        {{ built_at() }} as _built_at
    from orders
    left join record_identity
        on record_identity.record_key = orders.order_key

)

select * from final
{% if is_incremental() %}
-- Only new orders and orders that changed since the last run (see macros/incremental_changes.sql).
where {{ incremental_changed_rows('final', 'order_key') }}
{% endif %}
