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

{#- Fails for every hashed id that stands for more than one key (a 64-bit hash collision). -#}
{% test identity_hash_is_injective(model, id_column, key_column) %}
    select {{ id_column }}, count(distinct {{ key_column }}) as keys
    from {{ model }}
    group by {{ id_column }}
    having count(distinct {{ key_column }}) > 1
{% endtest %}
