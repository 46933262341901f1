{#-
    Customer-keyed incremental marts (customer_lifecycle, member_tier_history).

    Those marts are a function of each customer's purchases and of as_of. Between two daily builds most
    customers' purchases do not change, so an incremental build recomputes only the customers whose
    purchases changed (a new or re-exported order, a refund, an identity merge moving orders), plus what
    the later as_of adds (the model decides: threshold crossings for the lifecycle, new snapshot dates for
    the tiers). It recomputes everyone when the saved state cannot be trusted: no state yet, the model's
    settings (vars) changed, or as_of moved backwards (a backfill of a past day).

    State kept between builds, per model, in the intermediate schema (never published to serving):
      <model>__purchase_state   one row per customer with a purchase up to as_of: a fingerprint of their
                                purchases (dates[, net amounts]; rows_fingerprint), first and
                                last purchase day
      <model>__build_state      one row: the as_of and the settings of the last build
    A pre-hook writes this build's purchase state to `<model>__purchase_state_next`; the model compares it
    with the saved one; a post-hook swaps it in. Hooks run in the model's transaction, so a failed build
    keeps the old state and the old rows.
-#}

{% macro customer_state_relation(suffix) -%}
    {{ return(api.Relation.create(
        database=this.database,
        schema=generate_schema_name('intermediate', model) | trim,
        identifier=this.identifier ~ '__' ~ suffix,
    )) }}
{%- endmacro %}

{#- True when an incremental build can rely on the saved state (else every customer is recomputed). -#}
{% macro customer_state_exists() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- for suffix in ['purchase_state', 'build_state'] -%}
        {%- set relation = customer_state_relation(suffix) -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- Pre-hook: this build's purchase state. with_amounts: the state covers every order that moves money
    (macros/marts_net_spend.sql: purchases and non-purchases, their dates, net amounts and purchase flag),
    as the tiers' spend rule does; else the purchase dates only. -#}
{% macro customer_state_write_next(with_amounts=false) -%}
    {%- if config.get('materialized') != 'incremental' -%}{{ return('') }}{%- endif -%}
    {%- set next_state = customer_state_relation('purchase_state_next') -%}
    create schema if not exists {{ next_state.schema }};
    create or replace table {{ next_state }} as
    {%- if with_amounts %}
    select
        customer_id,
        {{ rows_fingerprint(['order_date', 'net_amount', 'is_purchase']) }} as purchase_fingerprint,
        min(case when is_purchase then order_date end) as first_purchase_date,
        max(case when is_purchase then order_date end) as last_purchase_date
    from ({{ marts_spend_orders() }}) as spend_orders
    {%- else %}
    select
        customer_id,
        {{ rows_fingerprint(['purchase_date']) }} as purchase_fingerprint,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date
    from {{ ref('repurchase_purchases') }}
    {%- endif %}
    where customer_id is not null
    group by customer_id
{%- endmacro %}

{#- Aggregate fingerprint of a set of rows (a multiset: two equal rows count twice), e.g. a customer's
    purchases or a month's purchases (the KPI cells, macros/marts_kpi.sql). Null values count as a marker
    distinct from any text. DuckDB: the sum (as hugeint, no overflow) of 64 bits of each row's md5 — one
    pass, order-free; two different row sets collide with a probability of about 2^-64 (DuckDB's hash() is
    not used: it collides on structured keys, see identity_key_id). Spark: md5 of the sorted list of the
    rows (sorted_list), slower but portable. Stored as a string either way, so a state saved by another
    fingerprint method compares unequal (everything is recomputed) instead of failing a cast. -#}
{% macro rows_fingerprint(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(" ~ dbt.cast(column, dbt.type_string()) ~ ", '\\N')") -%}
        {%- if not loop.last -%}{%- do parts.append("':'") -%}{%- endif -%}
    {%- endfor -%}
    {{- return(adapter.dispatch('rows_fingerprint')(dbt.concat(parts))) -}}
{%- endmacro %}

{% macro default__rows_fingerprint(row_text) -%}
    cast(sum(cast({{ identity_key_id(row_text) }} as hugeint)) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__rows_fingerprint(row_text) -%}
    md5({{ sorted_list(row_text, ',') }})
{%- endmacro %}

{#- SQL boolean: every customer must be recomputed (settings changed or as_of moved backwards). Needs the
    saved state (customer_state_exists()). -#}
{% macro customer_state_full_rebuild(settings) -%}
    (
        select count(*) > 0
        from {{ customer_state_relation('build_state') }} as saved_build
        cross join {{ ref('repurchase_as_of') }} as current_as_of
        where saved_build.settings <> '{{ settings }}'
            or current_as_of.as_of_date < saved_build.as_of_date
    )
{%- endmacro %}

{#- SQL boolean over a column of customer ids: the customer's purchases changed or are new. -#}
{% macro customer_state_purchases_changed(customer_id_expr) -%}
    {{ customer_id_expr }} in (
        select next_state.customer_id
        from {{ customer_state_relation('purchase_state_next') }} as next_state
        left join {{ customer_state_relation('purchase_state') }} as saved_state
            on saved_state.customer_id = next_state.customer_id
        where saved_state.customer_id is null
            or saved_state.purchase_fingerprint <> next_state.purchase_fingerprint
    )
{%- endmacro %}

{#- SQL scalar: the as_of of the last build. -#}
{% macro customer_state_saved_as_of() -%}
    (select as_of_date from {{ customer_state_relation('build_state') }})
{%- endmacro %}

{#- Post-hook: delete the rows of customers without purchases any more (merged into another id, or none
    up to as_of) on incremental builds, then keep this build's state. -#}
{% macro customer_state_save(settings) -%}
    {#- Built as a table (macro incremental_materialization: Spark), the model keeps no state. -#}
    {%- if config.get('materialized') != 'incremental' -%}{{ return('') }}{%- endif -%}
    {%- set next_state = customer_state_relation('purchase_state_next') -%}
    {%- set purchase_state = customer_state_relation('purchase_state') -%}
    {%- set build_state = customer_state_relation('build_state') -%}
    {%- if is_incremental() %}
    delete from {{ this }}
    where customer_id not in (select customer_id from {{ next_state }});
    {%- endif %}
    drop table if exists {{ purchase_state }};
    alter table {{ next_state }} rename to {{ purchase_state.identifier }};
    create or replace table {{ build_state }} as
    select
        as_of_date,
        cast('{{ settings }}' as {{ dbt.type_string() }}) as settings
    from {{ ref('repurchase_as_of') }}
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

{#- Pre-hook of member_tier_history (after customer_state_write_next): delete the snapshots the build
    recomputes: those of customers whose purchases changed and every snapshot dated on or after the last
    as_of; all of them when the state cannot be trusted. -#}
{% macro tier_history_delete_stale() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        {%- if customer_state_exists() %}
        where {{ customer_state_full_rebuild(tier_settings()) }}
            or snapshot_date >= {{ customer_state_saved_as_of() }}
            or {{ customer_state_purchases_changed('customer_id') }}
        {%- endif %}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
