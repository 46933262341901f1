{#- How DuckDB stores the identity chain's tables. Their text columns are mostly unique (identifier values
    and keys, record keys, customer ids: millions of distinct short strings), where DuckDB's automatic
    choice (DICT_FSST) spends more CPU analysing and compressing them than the model spends computing:
    copying the bench's 5.3M identifier observations took 4-5 CPU s with it and 2.7-2.8 with zstd, and
    the first build of the identity map 4.5 against 3.2 (DECISIONLOG "Connected components", Speed).
    So the identity models that write such columns (the candidates, nodes, map, customer identifiers,
    primary phones, record identity) write with zstd: a pre-hook, and a post-hook that restores the
    automatic choice for the models after them. Storage only: the rows are the same. Nothing to do on
    Spark (Parquet). -#}
{% macro identity_text_compression() -%}
    {{ return(adapter.dispatch('identity_text_compression')()) }}
{%- endmacro %}

{% macro default__identity_text_compression() -%}
    set force_compression = 'zstd'
{%- endmacro %}

{% macro spark__identity_text_compression() -%}
{%- endmacro %}

{% macro identity_text_compression_reset() -%}
    {{ return(adapter.dispatch('identity_text_compression_reset')()) }}
{%- endmacro %}

{% macro default__identity_text_compression_reset() -%}
    reset force_compression
{%- endmacro %}

{% macro spark__identity_text_compression_reset() -%}
{%- endmacro %}
