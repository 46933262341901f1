{#- 64-bit integer id of a text key, for the identity graph's joins and groupings (identifier_id,
    record_id): the low 64 bits of the key's md5. DuckDB's own hash() is not collision-safe on these
    keys: two JD order keys ('jd:326475565344', 'jd:321865565399') got the same hash() at 1M people and
    the injectivity test stopped the build. With md5 bits a collision is a ~2^-64 event per pair (about
    10^-6 at 5M keys); the identity_hash_is_injective tests still fail the build if one ever happens. -#}
{% macro identity_key_id(key_expr) -%}
    cast(md5_number({{ key_expr }}) & cast(18446744073709551615 as uhugeint) as ubigint)
{%- endmacro %}
