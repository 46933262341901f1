{#-
    Incremental identifier observations (int_identifier_candidates), keyed on the source record.

    A daily refresh adds a few export files; an incremental run recomputes the observations of only the
    records those files touch and leaves every other row as it is, so the table always equals a full
    rebuild (int_identifiers / int_identifiers_rejected are plain tables filtered from it).

    Watermark: each row keeps `_source_loaded_at`, the `_loaded_at` of the input it was built from (an
    order row's `_source_loaded_at` for an order's identifiers, the staging row's for a rejection, a payer,
    a member row or a touch). The newest `_source_loaded_at` in the table is the newest load it reflects;
    raw rows loaded after it are new (the loader stamps each file with its load time and never changes or
    deletes raw rows). A record with no observation leaves no row, so the watermark can only be lower than
    the last load it saw: that re-reads a file, never misses one.

    Records (the unit retracted and recomputed) and the inputs each needs:
      - an order `<channel>:<natural key>`: its int_orders_unioned row, the rejected identifiers of its
        pos / tmall / jd staging rows, and the WeChat Pay payers whose out_trade_no is its natural key (a
        payer attaches to its own order and to any other channel's order with that merchant order number);
      - a member `wechat_members:<app_id>:<openid>`: its staging row (one per openid);
      - a touch `touches:<event_key>`: its staging event (a pure function of the event's columns).
    Affected natural keys (`order_keys`): the keys with raw rows loaded after the watermark in the raw table
    of any order channel (`order_channels()`: pos, tmall, jd, wechat_pay; a new pay row re-attaches its
    payer to an old order of another channel; a new order picks up the payers of old pay rows), plus, for pos, the receipts linked by a return to a new receipt
    either way (the same links as orders_incremental_prepare: a new return changes its sale's refund, a new
    sale absorbs a stand-alone return `pos:<return no>`, whose order row vanishes). Every order record
    `<channel>:<key>` of every channel for those keys is a target; the model reads every input of exactly
    those keys, so what it produces is whole records, and a record that no longer has an observation is
    retracted and not re-inserted.
    Affected members: the openids with raw rows loaded after the watermark; their targets are the record
    keys of every app_id any raw row gave them (a re-export under another app_id moves the record).
    Touches: the events whose first copy was loaded after the watermark, appended without a delete. An
    event is immutable (its key is a hash of its columns) and staging keeps its first copy, so a later copy
    of an old event changes nothing, and an event first loaded after the watermark has no row in the table
    (any row would carry that load time, above the newest one). Reading them costs one pass over the
    touch staging view (its key is computed for every raw row to find first copies): a list filter on
    event_key would not be cheaper (it is pushed into the raw scan, but as an md5 of every raw row).

    This relies on int_orders_unioned being current when the model runs (it is upstream: dbt runs it
    first); the prepare hook fails the run, before deleting anything, when a channel's newest raw load is
    newer than the order table's newest `_source_loaded_at` (e.g. the model run alone after a load). Flow of an incremental run, in one transaction (dbt-duckdb runs the pre-hooks, the model and
    the post-hook together: a failure rolls the delete back too):
      1. `identity_incremental_prepare`: the watermark is read (before anything is deleted) into the
         DuckDB variable `<model>__watermark` and the affected keys written to `<model>__affected` (kind,
         key): kind 'order' (natural keys), 'member' (openids) and 'record' (the target record keys);
      2. `identity_incremental_retract`: the target records' rows are marked retracted (retracted_at and
         _built_at: this build's stamp);
      3. `identity_incremental_scope`: the order and member keys are bound into DuckDB variables
         `<model>__<kind>_keys`;
      4. the model reads its inputs filtered with `identity_incremental_reads` (a constant list filter on
         each staging model's partition key, which DuckDB pushes below staging's window functions into the
         raw scan; touches with `identity_incremental_new_touches`) and incremental_strategy 'append'
         inserts the result;
      5. `identity_incremental_keep_losses` (post-hook): of the rows retracted in step 2, only the losses
         stay (an identifier the record no longer shows, a record with no observation left): the graph
         steps (nodes, edges) recompute the identifiers and records of this build's rows, retracted or
         not, and nothing else;
      6. `identity_incremental_cleanup` (post-hook): drops the helper table and the variables.
    On a full build (first run, --full-refresh) every hook renders to nothing and the model is unfiltered.
    on_schema_change='append_new_columns': a column added to the model is null on the rows of records
    not recomputed since, so a new column must read null as its old meaning (retracted_at: null = live).
    After a change of the model's logic (or of the var identity_blocked_phones, which the rejection logic
    reads) run the identity chain with --full-refresh: rows of untouched records are never recomputed. Raw rows are assumed never deleted and load times increasing;
    after deleting raw rows (or loading with a clock set back) run --full-refresh.
-#}

{%- macro identity_incremental_helper() -%}
    {{- return(this.incorporate(path={'identifier': this.identifier ~ '__affected'})) -}}
{%- endmacro -%}

{%- macro identity_incremental_variable(kind) -%}
    {{- return(this.identifier ~ '__' ~ kind ~ ('' if kind == 'watermark' else '_keys')) -}}
{%- endmacro -%}

{%- macro identity_incremental_kinds() -%}
    {{- return(['order', 'member']) -}}
{%- endmacro -%}

{#- Pre-hook 1: the affected keys and records of the raw rows loaded after the table's watermark. -#}
{% macro identity_incremental_prepare() -%}
    {%- if is_incremental() -%}
        {%- set helper = identity_incremental_helper() -%}
        {%- set orders = ref('int_orders_unioned') -%}
        -- the order rows must reflect every raw order row (the newest raw rows of a channel always win
        -- in staging, so a current int_orders_unioned has the channel's newest load): an order table
        -- built before the latest loads would be read once and its later changes never picked up
        select case when exists (
            select 1
            from (
                {%- for spec in order_channels() %}
                select
                    '{{ spec.channel }}' as channel,
                    (select max(_loaded_at) from {{ source('raw', spec.source) }}) as loaded_at
                {% if not loop.last %}union all{% endif %}
                {%- endfor %}
            ) as raw_loads
            where raw_loads.loaded_at > coalesce(
                (select max(_source_loaded_at) from {{ orders }} where channel = raw_loads.channel),
                timestamp '-infinity'
            )
        ) then error('{{ this.identifier }}: {{ orders.identifier }} does not reflect the latest raw order '
            || 'loads; build it first (dbt run --select +{{ this.identifier }})') end;
        set variable {{ identity_incremental_variable('watermark') }} = (
            select coalesce(max(_source_loaded_at), timestamp '-infinity') from {{ this }}
        );
        drop table if exists {{ helper }};
        create table {{ helper }} as
        with watermark as (
            select getvariable('{{ identity_incremental_variable('watermark') }}') as loaded_at
        ),
        order_new as (
            {%- for spec in order_channels() %}
            select {{ spec.key }} as natural_key from {{ source('raw', spec.source) }}
            where _loaded_at > (select loaded_at from watermark)
            {% if not loop.last %}union{% endif %}
            {%- endfor %}
        ),
        pos_raw_links as (
            {{ pos_raw_links() }}
        ),
        order_keys as (
            {{ pos_return_linked_keys('order_new', 'pos_raw_links') }}
        ),
        member_keys as (
            select distinct openid as natural_key
            from {{ source('raw', 'wechat_members') }}
            where _loaded_at > (select loaded_at from watermark)
        ),
        records as (
            select channels.channel || ':' || order_keys.natural_key as natural_key
            from order_keys
            cross join (
                values
                {%- for spec in order_channels() %}
                ('{{ spec.channel }}'){% if not loop.last %},{% endif %}
                {%- endfor %}
            ) as channels (channel)
            union
            select {{ member_record_key('members.app_id', 'members.openid') }}
            from {{ source('raw', 'wechat_members') }} as members
            where members.openid in (select natural_key from member_keys)

        )
        select 'order' as kind, natural_key from order_keys where natural_key is not null
        union all
        select 'member', natural_key from member_keys where natural_key is not null
        union all
        select 'record', natural_key from records where natural_key is not null
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook 2: the target records' rows are taken back: marked retracted with this build's stamp (they
    leave every reader of observations). The run then appends the records' rows as they are now, and the
    post-hook below drops the marks those rows make redundant. -#}
{% macro identity_incremental_retract() -%}
    {%- if is_incremental() -%}
        -- a table written before the column existed: every stored row is live (the model's
        -- on_schema_change would add it only after this hook)
        alter table {{ this }} add column if not exists retracted_at timestamp;
        update {{ this }} as existing
        set retracted_at = {{ built_at() }}, _built_at = {{ built_at() }}
        where existing.retracted_at is null
            and exists (
                select 1
                from {{ identity_incremental_helper() }} as affected
                where affected.kind = 'record'
                    and affected.natural_key = existing.record_key
            )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook (before the cleanup): of this build's retracted rows, keep only the losses, which the graph
    steps must see: a usable identifier the record no longer shows, or (identifier_id null) a record that
    no longer has any observation. A retracted row whose record shows the same identifier again, or
    that is a rejected value of a record that still has observations, is deleted: the record's new rows
    say everything about it. What stays is what a day removed; earlier builds' losses stay too (a few rows
    a day: a consumer that missed a build still finds them after its own stamp). -#}
{% macro identity_incremental_keep_losses() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as retracted
        where retracted.retracted_at is not null
            and retracted._built_at = {{ built_at() }}
            and exists (
                select 1
                from {{ this }} as current_rows
                where current_rows.retracted_at is null
                    and current_rows._built_at = {{ built_at() }}
                    and current_rows.record_key = retracted.record_key
                    and (retracted.identifier_id is null or current_rows.identifier_id = retracted.identifier_id)
            )
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook 3: the order and member keys as DuckDB variables, bound as constants when the model is
    planned. -#}
{% macro identity_incremental_scope() -%}
    {%- if is_incremental() -%}
        {%- for kind in identity_incremental_kinds() %}
        {{ bind_key_list(identity_incremental_variable(kind), identity_incremental_helper(), 'kind', kind) }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}` (a macro must not call is_incremental() itself: unit
    tests override it in the model only): the predicate keeping the input rows of the affected keys of one
    kind (macros/incremental_key_lists.sql). -#}
{% macro identity_incremental_reads(kind, key_column) -%}
    {{ key_list_contains(identity_incremental_variable(kind), key_column) }}
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}`: the predicate keeping the touch events first loaded
    after the watermark (staging keeps an event's first copy: a later copy changes nothing). -#}
{% macro identity_incremental_new_touches() -%}
    _loaded_at > getvariable('{{ identity_incremental_variable('watermark') }}')
{%- endmacro %}

{#- Post-hook: drop the helper table and the variables. -#}
{% macro identity_incremental_cleanup() -%}
    {%- if is_incremental() -%}
        drop table if exists {{ identity_incremental_helper() }};
        reset variable {{ identity_incremental_variable('watermark') }};
        {%- for kind in identity_incremental_kinds() %}
        reset variable {{ identity_incremental_variable(kind) }};
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
