{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_line_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_vanished_keys('order_line_key', ref('int_order_lines_unioned'), counted=true) }}",
    )
}}

{#-
    One row per order line (POS receipt lines, JD order lines) with the order's customer.
    Incremental by change detection like fct_orders (macros/incremental_changes.sql). A row depends on its
    int_order_lines_unioned row and its order's fct_orders row (customer_id, ordered_at) only, so a run
    reads the lines that model wrote after this table's newest `_built_at` and the lines of the orders
    fct_orders wrote after it (new, changed or moved by an identity merge: DECISIONLOG "Customer state is
    a model"), not all of them, and writes those that differ from the stored rows.
-#}

with

lines as (

    select unioned.*
    from {{ ref('int_order_lines_unioned') }} as unioned
    {% if is_incremental() %}
    {%- set since = last_build_stamp() %}
    where {{ written_since_last_build('unioned', since) }}
        or unioned.order_key in ({{ keys_written_since_last_build(ref('fct_orders'), 'order_key', since) }})
    {% endif %}

),

orders as (

    select order_key, customer_id, ordered_at from {{ ref('fct_orders') }}

),

final as (

    select
        lines.order_line_key,
        lines.order_key,
        orders.customer_id,
        lines.channel,
        lines.source_order_id,
        lines.source_line_document_id,
        lines.line_number,
        lines.is_return,
        lines.sku,
        lines.sku_name,
        lines.quantity,
        lines.unit_price,
        lines.line_amount,
        orders.ordered_at,
        {{ built_at() }} as _built_at
    from lines
    left join orders
        on orders.order_key = lines.order_key

)

select * from final
{% if is_incremental() %}
-- Only new lines and lines that changed since the last run (see macros/incremental_changes.sql).
where {{ incremental_changed_rows('final', 'order_line_key') }}
{% endif %}
