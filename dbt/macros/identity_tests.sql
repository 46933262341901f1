{#- Fails for every row whose columns repeat (a portable unique-combination test; no package hub here). -#}
{% test unique_combination_of_columns(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Fails for every phone identifier key that is not 'phone:' + an 11-digit mainland mobile (masked,
    placeholder-shaped with stars, or otherwise malformed values must never reach linking). -#}
{% test identity_phone_keys_are_full_mobiles(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} like 'phone:%'
        and not {{ regex_full_match(column_name, 'phone:1[3-9][0-9]{9}') }}
{% endtest %}

{#- Fails for every hashed id that stands for more than one key (a 64-bit hash collision). `checked_rows`
    (a predicate; `__last_build__` = the rows of the model's last build, macros/last_build_rows.sql)
    limits the check to the ids those rows carry, each still compared with every row of the model: a new
    key colliding with an old one fails, and the keys of earlier builds were checked when they were new.
    A full build stamps every row, so it checks every id. -#}
{% test identity_hash_is_injective(model, id_column, key_column, checked_rows=none) %}
    select {{ id_column }}, count(distinct {{ key_column }}) as keys
    from {{ model }}
    {%- if checked_rows %}
    where {{ id_column }} in (
        select {{ id_column }}
        from {{ model }}
        where {{ last_build_where(checked_rows, model) }}
    )
    {%- endif %}
    group by {{ id_column }}
    having count(distinct {{ key_column }}) > 1
{% endtest %}

{#- Fails for every value of `column_name` that repeats in the model, among the values the `checked_rows`
    carry (a predicate, as above: `__last_build__`, or `__last_update__` for a model stamped by its
    updated_at), each counted over every row: a written key that repeats an older row's fails, as well as
    two written rows with one key. dbt's `unique` with `where` groups the written rows only, and without it
    groups every key of the table (3M identifiers at 1M people, every day); this probes the table for the
    written keys. A full build writes every row, so it checks every key. -#}
{% test unique_of_checked_rows(model, column_name, checked_rows) %}
    select {{ column_name }}, count(*) as occurrences
    from {{ model }}
    where {{ column_name }} in (
        select {{ column_name }}
        from {{ model }}
        where {{ last_build_where(checked_rows, model) }}
    )
    group by {{ column_name }}
    having count(*) > 1
{% endtest %}
