{#- Generic test: fails on rows where the column is negative (nulls are not_null's business). -#}
{% test non_negative(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
