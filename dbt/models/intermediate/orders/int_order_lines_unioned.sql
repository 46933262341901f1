{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=[
            "{{ orders_incremental_prepare(order_line_channels()) }}",
            "{{ orders_incremental_delete('source_line_document_id') }}",
            "{{ orders_incremental_scope(order_line_channels()) }}",
        ],
        post_hook="{{ orders_incremental_cleanup(order_line_channels()) }}",
    )
}}

{#-
    One row per order line, for the channels whose exports have lines (has_lines in var order_channels:
    order_line_channels()): POS receipt lines (returns included, negative) and JD order lines. Tmall
    exports one row per order and WeChat Pay bills carry no items, so they have no lines here.

    order_key is the order the line counts towards (int_orders_unioned): a POS return line belongs to its
    original receipt when that receipt is in the data, else to the return receipt's own row.
    line_amount: POS 实收金额 (paid_amount, negative for returns); JD 京东价 × 订购数量 (the export has no
    per-line paid amount: order-level discounts are not spread over lines).
    source_status is the status staging mapped on the line (POS receipt_type_en, JD order_status_en): the
    staging views' line tests are tested here, on the rows each build wrote (_orders__models.yml).

    Incremental (macros/orders_incremental.sql): a run recomputes only the lines of the receipts / orders
    whose export rows were loaded after the table's newest _source_loaded_at (per channel), plus the POS
    receipts linked to them by a return, and equals a full rebuild. _source_loaded_at = the line's
    _loaded_at.
-#}

with pos_lines as (
    select * from {{ ref('stg_pos__receipt_lines') }}
    {%- if is_incremental() %}
    where {{ orders_incremental_reads('pos', 'receipt_no') }}
    {%- endif %}
),

jd_lines as (
    select * from {{ ref('stg_jd__order_lines') }}
    {%- if is_incremental() %}
    where {{ orders_incremental_reads('jd', 'order_id') }}
    {%- endif %}
),

pos_sale_receipts as (
    select distinct receipt_no
    from pos_lines
    where receipt_type_en <> 'return'
),

pos_unioned as (
    select
        'pos' as channel,
        case
            when pos_lines.receipt_type_en = 'return' and pos_sale_receipts.receipt_no is not null
                then pos_lines.original_receipt_no
            else pos_lines.receipt_no
        end as source_order_id,
        pos_lines.receipt_no as source_line_document_id,
        pos_lines.line_number,
        pos_lines.receipt_type_en = 'return' as is_return,
        pos_lines.receipt_type_en as source_status,
        pos_lines.sku_code as sku,
        pos_lines.sku_name,
        pos_lines.quantity,
        pos_lines.unit_price,
        pos_lines.paid_amount as line_amount,
        pos_lines._loaded_at as source_loaded_at
    from pos_lines
    left join pos_sale_receipts
        on pos_lines.receipt_type_en = 'return'
        and pos_lines.original_receipt_no = pos_sale_receipts.receipt_no
),

jd_unioned as (
    select
        'jd' as channel,
        order_id as source_order_id,
        order_id as source_line_document_id,
        line_number,
        false as is_return,
        order_status_en as source_status,
        sku_id as sku,
        sku_name,
        cast(quantity as double) as quantity,
        jd_price as unit_price,
        jd_price * quantity as line_amount,
        _loaded_at as source_loaded_at
    from jd_lines
),

unioned as (
    select * from pos_unioned
    union all
    select * from jd_unioned
),

final as (
    select
        channel || ':' || source_line_document_id || ':' || cast(line_number as {{ dbt.type_string() }})
            as order_line_key,
        channel || ':' || source_order_id as order_key,
        channel,
        source_order_id,
        source_line_document_id,
        cast(line_number as integer) as line_number,
        is_return,
        source_status,
        sku,
        sku_name,
        cast(quantity as double) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(line_amount as decimal(18, 2)) as line_amount,
        cast(source_loaded_at as timestamp) as _source_loaded_at,
        {{ built_at() }} as _built_at
    from unioned
)

select * from final
{%- if is_incremental() %}
-- only the affected orders (the pre-hooks deleted their rows)
where {{ orders_incremental_writes('source_line_document_id') }}
{%- endif %}
