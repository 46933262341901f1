{#- 64-bit integer id of a text key, for the identity graph's joins and groupings (identifier_id,
    record_id): the low 64 bits of the key's md5. DuckDB's own hash() is not collision-safe on these
    keys: two JD order keys ('jd:326475565344', 'jd:321865565399') got the same hash() at 1M people and
    the injectivity test stopped the build. With md5 bits a collision is a ~2^-64 event per pair (about
    10^-6 at 5M keys); the identity_hash_is_injective tests still fail the build if one ever happens.
    Both engines give the same number for a key: md5_number's low 64 bits are the digest's first 8 bytes
    read little-endian (md5 'e110e398e5327c87…' of 'jd:1' is 0x877c32e598e310e1). DuckDB keeps it as
    ubigint; Spark has no unsigned 64-bit type, so it is decimal(20, 0) there (conv reads hex as unsigned). -#}
{% macro identity_key_id(key_expr) -%}
    {{ return(adapter.dispatch('identity_key_id')(key_expr)) }}
{%- endmacro %}

{% macro default__identity_key_id(key_expr) -%}
    cast(md5_number({{ key_expr }}) & cast(18446744073709551615 as uhugeint) as ubigint)
{%- endmacro %}

{% macro spark__identity_key_id(key_expr) -%}
    {%- set digest = 'md5(' ~ key_expr ~ ')' -%}
    cast(conv(concat(
        {%- for byte in range(7, -1, -1) -%}
        substr({{ digest }}, {{ 2 * byte + 1 }}, 2){{ ', ' if not loop.last }}
        {%- endfor -%}
    ), 16, 10) as decimal(20, 0))
{%- endmacro %}

{#- The table of label-propagation pass `pass_number` of the SQL components model
    (models/intermediate/identity/spark/int_identity_components_sql.sql). -#}
{% macro identity_label_table(pass_number) -%}
    {{- return(this.incorporate(path={'identifier': this.identifier ~ '__labels_' ~ pass_number}, type='table')) -}}
{%- endmacro %}

{#- Post-hook of that model: drop every pass table it may have left. -#}
{% macro drop_identity_label_tables() -%}
    {%- for pass_number in range(var('identity_label_max_passes') + 1) -%}
        {%- do adapter.drop_relation(identity_label_table(pass_number)) -%}
    {%- endfor -%}
{%- endmacro %}

{#- Pre-hook of customer_identifier_map: a map written before the map carried identifier_id gains the
    column, filled from its identifier_key (the same identity_key_id the nodes use); customer ids and
    every other column are untouched, so no full refresh is needed (the map opts out of them anyway).
    A no-op once the column is filled. On Spark the map is rebuilt as a table: nothing to migrate. -#}
{% macro identity_map_add_identifier_id() -%}
    {{ return(adapter.dispatch('identity_map_add_identifier_id')()) }}
{%- endmacro %}

{% macro default__identity_map_add_identifier_id() -%}
    {%- if is_incremental() -%}
        alter table {{ this }} add column if not exists identifier_id ubigint;
        update {{ this }} set identifier_id = {{ identity_key_id('identifier_key') }} where identifier_id is null
    {%- endif -%}
{%- endmacro %}

{% macro spark__identity_map_add_identifier_id() -%}
{%- endmacro %}
