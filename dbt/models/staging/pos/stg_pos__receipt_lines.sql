{#-
    One row per POS receipt line.

    De-duplication: a receipt re-exported in several files (overlapping date ranges) is taken whole from
    the most recently loaded file that has it; two identical lines inside one receipt of one file are
    legitimate (the cashier scanned the item twice) and both stay. line_number is the line's position in
    its receipt in that file.
-#}
{%- set receipt_types = {'销售': 'sale', '退货': 'return'} -%}

with source as (
    select * from {{ source('raw', 'pos') }}
),

ranked as (
    select
        *,
        {{ latest_file_rank('receipt_no') }} as file_rank
    from source
),

deduplicated as (
    select
        *,
        row_number() over (partition by receipt_no order by _row_number) as line_number
    from ranked
    where file_rank = 1
),

renamed as (
    select
        receipt_no || ':' || cast(line_number as {{ dbt.type_string() }}) as receipt_line_key,
        cast(receipt_no as {{ dbt.type_string() }}) as receipt_no,
        cast(line_number as integer) as line_number,
        receipt_type,
        {{ map_native_value('receipt_type', receipt_types) }} as receipt_type_en,
        original_receipt_no,
        store_code,
        store_name,
        cashier,
        cast(sold_at as timestamp) as sold_at,
        member_card,
        phone,
        coalesce(phone_masked, false) as phone_masked,
        phone_issue,
        sku_code,
        sku_name,
        cast(quantity as double) as quantity,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        payment_method,
        _file_name,
        _file_sha256,
        _row_number,
        _loaded_at
    from deduplicated
)

select * from renamed
