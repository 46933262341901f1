{#-
    Incremental order intermediates (int_orders_unioned, int_order_lines_unioned), keyed on newly loaded
    export files.

    A daily refresh adds a few export files; an incremental run recomputes only the orders those files
    touch and leaves every other row as it is, so the table always equals a full rebuild.

    Watermark: each row keeps `_source_loaded_at`, the newest `_loaded_at` of the staging rows it was built
    from. Per channel, the newest `_source_loaded_at` in the table is the newest load it reflects; raw rows
    loaded after it are new (the loader stamps each file with its load time, and raw rows are never
    changed or deleted: a re-export arrives as new rows in a newer file, which staging prefers).

    Natural keys (the unit the models recompute): POS receipt_no, Tmall and JD order_id, WeChat Pay
    out_trade_no. An order row or a line row belongs to the natural key of its own document
    (source_order_id of an order, source_line_document_id of a line).

    Affected keys (`target`: rows deleted and recomputed), per channel:
      - every natural key with raw rows loaded after the channel's watermark (N);
      - pos: the original receipts those receipts point at (original_receipt_no of ANY of their raw rows,
        so an original a re-export stops pointing at is recomputed too): their refund changes;
      - pos: the receipts whose raw rows point at a receipt of N: a new (or re-typed) sale turns a
        stand-alone return row `pos:<return no>` into a refund of the sale (the row vanishes, its lines move
        to the sale's order_key), and the reverse.
    Context keys (`context`: rows the model reads to recompute the targets; only target rows are written):
    the targets plus, for pos, the original receipts of the targets and the receipts pointing at them, so
    a target sale sees all its returns and a target return sees whether its original sale exists.
    Raw rows of every file are used for these links (a superset of the current ones): extra keys cost a
    little work, never a wrong row, because the model reads the current staging rows of those keys.

    Flow of an incremental run (dbt-duckdb runs the pre-hooks, the model and the post-hook in one
    transaction: a failure anywhere rolls the delete back too):
      1. `orders_incremental_prepare`: the watermarks are read from the table (before anything is deleted,
         which could lower them) and the affected keys written to `<model>__affected` (channel,
         natural_key, is_target);
      2. `orders_incremental_delete`: the target keys' rows are deleted from the table (so rows that are no
         longer produced, e.g. a stand-alone return now netted, go; delete+insert on order_key could not
         remove them);
      3. `orders_incremental_scope`: each channel's context keys are bound into a DuckDB variable
         `<model>__<channel>_keys`;
      4. the model reads staging filtered with `orders_incremental_reads` (a constant list filter on the
         staging partition key, which DuckDB pushes below staging's window functions into the raw scan:
         a semi-join on the helper table would not be pushed and every run would rank all history) and
         keeps the target rows with `orders_incremental_writes` (a semi-join on the helper);
         incremental_strategy 'append' inserts them;
      5. `orders_incremental_cleanup` (post-hook): drops the helper table and the variables.
    On a full build (first run, --full-refresh) every hook renders to nothing and the model is unfiltered.
    A table built before `_source_loaded_at` existed gets the column and every row recomputed once.
    on_schema_change='fail': after a change of the models' columns or logic run them with --full-refresh
    (rows of untouched orders are never recomputed). Raw rows are assumed never deleted and load times
    increasing; after deleting raw rows (or loading with a clock set back) run --full-refresh.
-#}

{%- macro orders_incremental_helper() -%}
    {{- return(this.incorporate(path={'identifier': this.identifier ~ '__affected'})) -}}
{%- endmacro -%}

{%- macro orders_incremental_variable(channel) -%}
    {{- return(this.identifier ~ '__' ~ channel ~ '_keys') -}}
{%- endmacro -%}

{#- The order channels, in order: a list of {channel, source, key} (the channel's name in the order models,
    its raw table, the natural key column). One place: the var `order_channels` in dbt_project.yml, which
    tests/core keeps equal to the source registry (core/sources.py). Shared with identity_incremental.sql. -#}
{%- macro order_channels() -%}
    {{- return(var('order_channels')) -}}
{%- endmacro -%}

{#- The names of the order channels whose exports have item lines (int_order_lines_unioned), in order. -#}
{%- macro order_line_channels() -%}
    {{- return(order_channels() | selectattr('has_lines') | map(attribute='channel') | list) -}}
{%- endmacro -%}

{#- Each channel's raw source and natural key, by channel name. -#}
{%- macro orders_incremental_sources() -%}
    {%- set found = {} -%}
    {%- for spec in order_channels() -%}
        {%- do found.update({spec.channel: spec}) -%}
    {%- endfor -%}
    {{- return(found) -}}
{%- endmacro -%}

{#- The receipt numbers of `keys` (a relation with column natural_key) plus those one return link away,
    both ways: the originals their returns point at, and the receipts pointing at them (`links`: distinct
    receipt_no, original_receipt_no pairs of the raw POS rows: pos_raw_links()). Shared with
    identity_incremental.sql. -#}
{% macro pos_raw_links() -%}
    select distinct receipt_no, original_receipt_no
    from {{ source('raw', 'pos') }}
    where original_receipt_no is not null
{%- endmacro %}

{% macro pos_return_linked_keys(keys, links) -%}
    select natural_key from {{ keys }}
    union
    select original_receipt_no from {{ links }}
    where receipt_no in (select natural_key from {{ keys }})
    union
    select receipt_no from {{ links }}
    where original_receipt_no in (select natural_key from {{ keys }})
{%- endmacro %}

{#- Pre-hook 1: the affected keys of the raw rows loaded after the table's watermark. -#}
{% macro orders_incremental_prepare(channels) -%}
    {%- if is_incremental() -%}
        {%- set sources = orders_incremental_sources() -%}
        {%- set helper = orders_incremental_helper() -%}
        {%- set existing = adapter.get_columns_in_relation(this)
            | map(attribute='name') | map('lower') | list -%}
        {%- if '_source_loaded_at' not in existing %}
        -- the table predates the watermark column: add it (on_schema_change='fail' then sees the model's
        -- columns); with no watermark every key is affected, so every row is recomputed
        alter table {{ this }} add column _source_loaded_at timestamp;
        {%- endif %}
        drop table if exists {{ helper }};
        create table {{ helper }} as
        with watermarks as (
            {%- if '_source_loaded_at' in existing %}
            select channel, max(_source_loaded_at) as loaded_at
            from {{ this }}
            group by channel
            {%- else %}
            -- a table built before the watermark column existed: every key is affected (one full rebuild)
            select cast(null as {{ dbt.type_string() }}) as channel, cast(null as timestamp) as loaded_at
            where false
            {%- endif %}
        ),
        {%- for channel in channels %}
        {%- set spec = sources[channel] %}
        {{ channel }}_new as (
            select distinct {{ spec.key }} as natural_key
            from {{ source('raw', spec.source) }}
            where _loaded_at > coalesce(
                (select loaded_at from watermarks where channel = '{{ channel }}'), timestamp '-infinity'
            )
            and {{ spec.key }} is not null
        ),
        {%- endfor %}
        {%- if 'pos' in channels %}
        pos_raw_links as (
            {{ pos_raw_links() }}
        ),
        pos_target as (
            {{ pos_return_linked_keys('pos_new', 'pos_raw_links') }}
        ),
        pos_context as (
            {{ pos_return_linked_keys('pos_target', 'pos_raw_links') }}
        ),
        {%- endif %}
        affected as (
            {%- for channel in channels %}
            {%- if channel == 'pos' %}
            select
                'pos' as channel,
                pos_context.natural_key,
                pos_context.natural_key in (select natural_key from pos_target) as is_target
            from pos_context
            {%- else %}
            select '{{ channel }}' as channel, natural_key, true as is_target
            from {{ channel }}_new
            {%- endif %}
            {% if not loop.last %}union all{% endif %}
            {%- endfor %}
        )
        select * from affected
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook 2: delete the rows of the target keys (document_column: the row's own natural key). -#}
{% macro orders_incremental_delete(document_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as existing
        where exists (
            select 1
            from {{ orders_incremental_helper() }} as affected
            where affected.is_target
                and affected.channel = existing.channel
                and affected.natural_key = existing.{{ document_column }}
        )
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook 3: each channel's context keys as a DuckDB variable, bound as a constant when the model is
    planned. -#}
{% macro orders_incremental_scope(channels) -%}
    {%- if is_incremental() -%}
        {%- for channel in channels %}
        {{ bind_key_list(orders_incremental_variable(channel), orders_incremental_helper(), 'channel', channel) }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}` (a macro must not call is_incremental() itself: unit
    tests override it in the model only): the predicate keeping the staging rows of the channel's context
    keys (macros/incremental_key_lists.sql). -#}
{% macro orders_incremental_reads(channel, key_column) -%}
    {{ key_list_contains(orders_incremental_variable(channel), key_column) }}
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}`: the predicate keeping the output rows of the target
    keys (context keys are only read). A semi-join on the helper table (a hash join); a list_contains per
    channel inside an OR would scan the list once per row. -#}
{% macro orders_incremental_writes(document_column) -%}
    exists (
        select 1
        from {{ orders_incremental_helper() }} as affected
        where affected.is_target
            and affected.channel = final.channel
            and affected.natural_key = final.{{ document_column }}
    )
{%- endmacro %}

{#- Post-hook: drop the helper table and the variables. -#}
{% macro orders_incremental_cleanup(channels) -%}
    {%- if is_incremental() -%}
        drop table if exists {{ orders_incremental_helper() }};
        {%- for channel in channels %}
        reset variable {{ orders_incremental_variable(channel) }};
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
