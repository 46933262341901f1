{#-
    Customer-keyed incremental marts (customer_lifecycle, member_tier_history).

    Those marts are a function of each customer's purchases and of as_of. Between two daily builds most
    customers' orders do not change, so an incremental build recomputes only the customers whose orders
    changed (a new or re-exported order, a refund, an identity merge moving orders), plus what the later
    as_of adds (the model decides: threshold crossings for the lifecycle, new snapshot dates for the
    tiers). It recomputes everyone when its earlier rows cannot be trusted: none yet, the model's
    settings (vars) changed, or as_of moved backwards (a backfill of a past day).

    The state is in the dbt graph, not in tables a hook makes (DECISIONLOG "Customer state is a model"):
      - int_customer_order_state: per customer, the fingerprints of their orders and when a build last
        saw each change (purchases_changed_at, spend_changed_at);
      - the mart's own rows: each carries the build that wrote it (`_built_at`), that build's as_of
        (`_built_as_of`) and settings (`_built_settings`); bookkeeping, not served.
    A build recomputes the customers whose change is later than the mart's newest `_built_at`: what it
    has not seen yet, also after a build that failed or did not select it.
-#}

{#- SQL (one row): the model's previous build, read from the rows written before this build (so the same
    in the model's select and in its post-hook, after this build's rows went in): its stamp, its as_of,
    and recompute_all, true when its rows cannot be reused (none, other settings, as_of moved back).
    settings none: the model has no settings (no `_built_settings` column). -#}
{% macro customer_state_previous_build(settings=none) -%}
    select
        max(_built_at) as built_at,
        max(_built_as_of) as as_of_date,
        (
            max(_built_at) is null
            {%- if settings is not none %}
            or max(case when _built_settings <> '{{ settings }}' then 1 else 0 end) = 1
            {%- endif %}
            or {{ marts_as_of() }} < max(_built_as_of)
        ) as recompute_all
    from {{ this }}
    where _built_at < {{ built_at() }}
{%- endmacro %}

{#- SQL (one row, column state_as_of): the as_of int_customer_order_state was last built for; stops the
    build when that is not this build's as_of (a selection that left the state out would read a stale one:
    missed changes, or customers whose purchases all lie after an earlier as_of). An empty state is this
    as_of's when no identified customer has an order on or before it (a warehouse of members only, an
    as_of before the first order). -#}
{% macro customer_state_as_of_check() -%}
    select
        case
            when state.built_as_of = as_of.as_of_date then state.built_as_of
            when state.built_as_of is null and identified_orders.orders = 0 then as_of.as_of_date
            else {{ raise_data_error(
                "'int_customer_order_state was built for as_of ' || coalesce(cast(state.built_as_of as "
                ~ dbt.type_string() ~ "), 'none') || ', not for this build''s ' || cast(as_of.as_of_date as "
                ~ dbt.type_string() ~ ") || ': build it in the same run as the models that read it (dbt build "
                ~ "--select +" ~ this.identifier ~ ")'"
            ) }}
        end as state_as_of
    from (select max(_built_as_of) as built_as_of from {{ ref('int_customer_order_state') }}) as state
    cross join {{ ref('repurchase_as_of') }} as as_of
    cross join (
        select count(*) as orders
        from (
            select 1 as found
            from {{ ref('fct_orders') }} as orders
            where orders.customer_id is not null
                and cast(orders.ordered_at as date) <= {{ marts_as_of() }}
            limit 1
        ) as first_order
    ) as identified_orders
{%- endmacro %}

{#- The bookkeeping columns of a customer-keyed incremental mart's rows. -#}
{% macro customer_state_bookkeeping(settings) -%}
        {{ built_at() }} as _built_at,
        cast({{ marts_as_of() }} as date) as _built_as_of,
        cast('{{ settings }}' as {{ dbt.type_string() }}) as _built_settings
{%- endmacro %}

{#- Aggregate fingerprint of a set of rows (a multiset: two equal rows count twice), e.g. a customer's
    purchases or a month's purchases (the KPI cells, macros/marts_kpi.sql). Null values count as a marker
    distinct from any text. The sum (fingerprint_sum, decimal(38, 0)) of 64 bits of each row's md5
    (identity_key_id, dispatched) — one pass, order-free, the same on DuckDB and Spark; two different row
    sets collide with a probability of about 2^-64 (DuckDB's hash() is not used: it collides on structured
    keys, see identity_key_id). Stored as a string, so a state saved by another fingerprint method compares
    unequal (everything is recomputed) instead of failing a cast. -#}
{% macro rows_fingerprint(columns) -%}
    {{- fingerprint_sum(row_fingerprint(columns)) -}}
{%- endmacro %}

{#- One row's values as text, the input of its fingerprint (a null is the marker \N, which no text value
    equals). -#}
{% macro row_text(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ dbt.cast(column, dbt.type_string()) ~ ", '\\N')") -%}
        {%- if not loop.last -%}{%- do parts.append("':'") -%}{%- endif -%}
    {%- endfor -%}
    {{- return(dbt.concat(parts)) -}}
{%- endmacro %}

{#- One row's 64-bit fingerprint (md5 bits, identity_key_id), for a model that stores it with the row
    (repurchase_purchases._row_fingerprint): the fingerprint of a set of such rows is then a sum of stored
    integers (fingerprint_sum), computed once per written row instead of once per row per build. -#}
{% macro row_fingerprint(columns) -%}
    {{- identity_key_id(row_text(columns)) -}}
{%- endmacro %}

{#- The order-free aggregate of row fingerprints, as a string: their sum as decimal(38, 0) (no overflow;
    the same digits as a hugeint sum, and several times faster than one in DuckDB; portable). -#}
{% macro fingerprint_sum(row_fingerprint_expr) -%}
    cast(sum(cast({{ row_fingerprint_expr }} as decimal(38, 0))) as {{ dbt.type_string() }})
{%- endmacro %}

{#- The thresholds each model depends on, as one string: a change forces a full recompute. -#}
{% macro lifecycle_settings() -%}
    {{- [var('lifecycle_new_days'), var('lifecycle_active_days'), var('lifecycle_silent_days'),
         var('lifecycle_loyal_min_tenure_days'), var('lifecycle_loyal_min_purchases')] | join('|') -}}
{%- endmacro %}

{% macro tier_settings() -%}
    {{- [var('tier_window_months'), var('tier_silver_min_spend'), var('tier_silver_min_orders'),
         var('tier_gold_min_spend'), var('tier_gold_min_orders'), var('tier_diamond_min_spend'),
         var('tier_diamond_min_orders')] | join('|') -}}
{%- endmacro %}

{#- Post-hook of member_tier_history (strategy append): delete the earlier rows this build replaced: all
    of them when recompute_all, else the snapshots dated on or after the previous as_of and those of every
    customer who is not a purchaser whose orders stayed unchanged since (whose orders changed, or who has
    no purchase any more). The previous build is read first and written into the delete as constants: one
    anti-join of the 9.2M rows (1M people) against the unchanged purchasers, where a correlated `in` and a
    `not in` joined every row twice (0.79 -> 0.28 s). -#}
{% macro tier_history_delete_replaced() -%}
    {%- if is_incremental() and execute -%}
        {#- read as text behind a marker, so that the values are not parsed on their way (stored_stamp) -#}
        {%- set previous = run_query(
            'select ' ~ dbt.concat(["'@'", dbt.cast('built_at', dbt.type_string())]) ~ ', '
            ~ dbt.concat(["'@'", dbt.cast('as_of_date', dbt.type_string())]) ~ ', recompute_all from ('
            ~ customer_state_previous_build(tier_settings()) ~ ') as previous_build'
        ).rows[0] -%}
        {%- if previous[2] or previous[0] is none or previous[1] is none -%}
        delete from {{ this }}
        where _built_at < {{ built_at() }}
        {%- else -%}
            {%- set what = 'tier_history_delete_replaced: the previous build of ' ~ this -%}
            {%- set previous_built_at = checked_literal(previous[0][1:], 'timestamp', what ~ ' (stamp)') -%}
            {%- set previous_as_of = checked_literal(previous[1][1:], 'date', what ~ ' (as_of)') -%}
        delete from {{ this }}
        where _built_at < {{ built_at() }}
            and (
                snapshot_date >= {{ previous_as_of }}
                or customer_id not in (
                    select state.customer_id
                    from {{ ref('int_customer_order_state') }} as state
                    where state.purchase_count > 0
                        and (state.spend_changed_at is null
                            or state.spend_changed_at <= {{ previous_built_at }})
                )
            )
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
