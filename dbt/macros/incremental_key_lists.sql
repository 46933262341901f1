{#-
    Key lists of the file-keyed incremental models (orders_incremental.sql, identity_incremental.sql) and of
    customer_pii (the marketplace orders of the customers it recomputes).

    A pre-hook binds the affected natural keys of one kind (a channel, members...) from the model's helper
    table into a DuckDB variable; the model filters its inputs with `key_list_contains`. A bare
    getvariable() is a constant when the query is planned, so DuckDB pushes the filter below the staging
    views' window functions into the raw scan; a semi-join on the helper table would not be pushed, and
    every run would rank all history again. (Wrapped in a volatile guard such as error(), the filter would
    not be pushed either.)
-#}

{#- Pre-hook statement: `variable` := the sorted natural keys of `helper` where `kind_column` = `kind`. -#}
{% macro bind_key_list(variable, helper, kind_column, kind) -%}
    {{ bind_key_list_of(variable, 'select natural_key from ' ~ helper ~ ' where ' ~ kind_column ~ " = '" ~ kind ~ "'") }}
{%- endmacro %}

{#- Pre-hook statement: `variable` := the sorted keys `keys` selects (one column, natural_key). -#}
{% macro bind_key_list_of(variable, keys) -%}
    set variable {{ variable }} = (
        select coalesce(list(natural_key order by natural_key), cast([] as varchar[]))
        from ({{ keys }}) as bound
    );
{%- endmacro %}

{#- In the model, inside `{% if is_incremental() %}`: keep the rows whose key is in the bound list. -#}
{% macro key_list_contains(variable, key_column) -%}
    list_contains(getvariable('{{ variable }}'), {{ key_column }})
{%- endmacro %}

{#- customer_pii reads the Tmall and JD staging views for the names and addresses of the customers it
    recomputes. Filtered by the order ids of those customers' records (a key list: a semi-join would not
    reach below the views' ranking), a day ranks those orders' raw rows, not every order of the history
    (1M people: most of the model's 1.5 s on a day, and as much on a build with nothing new). The
    marketplaces, each its record keys' prefix (`<marketplace>:<order id>`): -#}
{% macro customer_pii_marketplaces() -%}
    {{ return(['tmall', 'jd']) }}
{%- endmacro %}

{#- The customers a scoped (incremental) customer_pii build recomputes: those dim_customers rewrote since
    its last build. A query of customer_id, read by the model and by its pre-hook. -#}
{% macro customer_pii_recomputed_customers() -%}
    select dim.customer_id
    from {{ ref('dim_customers') }} as dim
    where {{ written_since_last_build('dim') }}
{%- endmacro %}

{% macro customer_pii_order_ids_variable(marketplace) -%}
    {{- return(this.identifier ~ '__' ~ marketplace ~ '_order_ids') -}}
{%- endmacro %}

{#- Pre-hook: bind each marketplace's order ids of the customers a scoped build recomputes. -#}
{% macro customer_pii_bind_order_ids(scoped) -%}
    {%- if scoped -%}
        {%- for marketplace in customer_pii_marketplaces() %}
        {{ bind_key_list_of(customer_pii_order_ids_variable(marketplace),
            'select distinct substr(record_key, ' ~ (marketplace | length + 2) ~ ') as natural_key from '
            ~ ref('int_record_customers') ~ " where starts_with(record_key, '" ~ marketplace ~ ":')"
            ~ ' and customer_id in (' ~ customer_pii_recomputed_customers() ~ ')') }}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the variables go with the build. -#}
{% macro customer_pii_reset_order_ids(scoped) -%}
    {%- if scoped -%}
        {%- for marketplace in customer_pii_marketplaces() %}
        reset variable {{ customer_pii_order_ids_variable(marketplace) }};
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
