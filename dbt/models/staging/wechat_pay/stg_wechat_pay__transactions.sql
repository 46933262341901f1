{#-
    One row per WeChat Pay bill detail line: a payment (SUCCESS), a refund (REFUND, carrying the
    original 商户订单号 out_trade_no) or a revoked payment (REVOKED).

    De-duplication: bills downloaded for overlapping days repeat lines; a line is identified by
    (out_trade_no, trade_state, refund_id) — several partial refunds of one order have distinct refund
    ids — and the most recently loaded file wins.
-#}
{%- set trade_states = {'SUCCESS': 'success', 'REFUND': 'refund', 'REVOKED': 'revoked'} -%}

with source as (
    select * from {{ source('raw', 'wechat_pay') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by out_trade_no, trade_state, coalesce(refund_id, '')
            order by _loaded_at desc, _file_name desc, _file_sha256 desc, _row_number desc
        ) as file_rank
    from source
),

renamed as (
    select
        out_trade_no || ':' || coalesce(trade_state, '') || ':' || coalesce(refund_id, '')
            as transaction_line_key,
        cast(traded_at as timestamp) as traded_at,
        app_id,
        mch_id,
        sub_mch_id,
        device_no,
        cast(transaction_id as {{ dbt.type_string() }}) as transaction_id,
        cast(out_trade_no as {{ dbt.type_string() }}) as out_trade_no,
        openid,
        trade_type,
        trade_state,
        {{ map_native_value('upper(trade_state)', trade_states) }} as trade_state_en,
        bank_type,
        currency,
        cast(settlement_amount as decimal(18, 2)) as settlement_amount,
        cast(coupon_amount as decimal(18, 2)) as coupon_amount,
        refund_id,
        out_refund_no,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        cast(coupon_refund_amount as decimal(18, 2)) as coupon_refund_amount,
        refund_type,
        refund_status,
        product_name,
        merchant_data,
        cast(fee as decimal(18, 2)) as fee,
        fee_rate,
        cast(order_amount as decimal(18, 2)) as order_amount,
        cast(requested_refund_amount as decimal(18, 2)) as requested_refund_amount,
        fee_rate_note,
        _file_name,
        _file_sha256,
        _row_number,
        _loaded_at
    from ranked
    where file_rank = 1
)

select * from renamed
