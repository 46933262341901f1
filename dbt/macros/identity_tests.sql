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
        and not regexp_full_match({{ column_name }}, 'phone:1[3-9][0-9]{9}')
{% endtest %}
