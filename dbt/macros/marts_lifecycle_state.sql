{#-
    Incremental lifecycle snapshot (customer_lifecycle).

    A customer's spells change only when (a) their purchases change (a new or re-exported order, an
    identity merge that moves orders to them), (b) the days since their first / last purchase cross a
    threshold between the previous build's as_of and this one (new -> active, active -> silent, silent ->
    churned, active -> loyal at the tenure day), (c) the thresholds themselves change, or (d) as_of moves
    backwards. Everyone else's spells, including the open spell in force on as_of, stay as they are. So an
    incremental build recomputes the spells of those customers only and leaves the others' rows untouched:
    the work is the day's buyers plus the day's threshold crossings, not customers x history.

    State kept between builds, in the intermediate schema (never published to serving):
      customer_lifecycle__purchase_state   one row per customer: a fingerprint of their purchase days
                                            (md5 of the ordered list date:orders), first and last purchase day
      customer_lifecycle__build_state      one row: the as_of and the lifecycle settings of the last build
    A pre-hook writes this build's purchase state to `..._next`; the model compares it with the saved one;
    post-hooks delete the customers that vanished (merged into another id, or no purchase up to as_of) and
    swap `_next` in. Hooks run in the model's transaction, so a failed build leaves the old state.
-#}

{% macro lifecycle_state_relation(suffix) -%}
    {{ return(api.Relation.create(
        database=this.database,
        schema=generate_schema_name('intermediate', model) | trim,
        identifier='customer_lifecycle__' ~ suffix,
    )) }}
{%- endmacro %}

{#- The thresholds the spells depend on, as one string: a change forces a full recompute. -#}
{% macro lifecycle_settings() -%}
    {{- [var('lifecycle_new_days'), var('lifecycle_active_days'), var('lifecycle_silent_days'),
         var('lifecycle_loyal_min_tenure_days'), var('lifecycle_loyal_min_purchases')] | join('|') -}}
{%- endmacro %}

{#- True when an incremental build can rely on the saved state (else every customer is recomputed). -#}
{% macro lifecycle_state_exists() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- for suffix in ['purchase_state', 'build_state'] -%}
        {%- set relation = lifecycle_state_relation(suffix) -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- Pre-hook: this build's purchase state (one row per customer with a purchase up to as_of). -#}
{% macro lifecycle_write_next_state() -%}
    {%- set next_state = lifecycle_state_relation('purchase_state_next') -%}
    create schema if not exists {{ next_state.schema }};
    create or replace table {{ next_state }} as
    with purchase_days as (
        select customer_id, purchase_date, count(*) as orders_on_day
        from {{ ref('repurchase_purchases') }}
        where customer_id is not null
        group by customer_id, purchase_date
    )
    select
        customer_id,
        {{ dbt.hash(dbt.listagg(
            dbt.concat([dbt.cast('purchase_date', dbt.type_string()), "':'",
                        dbt.cast('orders_on_day', dbt.type_string())]),
            "','", 'order by purchase_date')) }} as purchase_fingerprint,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date
    from purchase_days
    group by customer_id
{%- endmacro %}

{#- Post-hooks: drop vanished customers' spells (incremental builds only), then keep this build's state. -#}
{% macro lifecycle_save_state() -%}
    {%- set next_state = lifecycle_state_relation('purchase_state_next') -%}
    {%- set purchase_state = lifecycle_state_relation('purchase_state') -%}
    {%- set build_state = lifecycle_state_relation('build_state') -%}
    {%- if is_incremental() %}
    delete from {{ this }}
    where customer_id not in (select customer_id from {{ next_state }});
    {%- endif %}
    drop table if exists {{ purchase_state }};
    alter table {{ next_state }} rename to {{ purchase_state.identifier }};
    create or replace table {{ build_state }} as
    select
        as_of_date,
        cast('{{ lifecycle_settings() }}' as {{ dbt.type_string() }}) as settings
    from {{ ref('repurchase_as_of') }}
{%- endmacro %}
