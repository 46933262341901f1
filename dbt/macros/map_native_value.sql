{#-
    Map a native categorical value (as exported, often Chinese) to an English label.

    mapping: {native value: english label}. Values are compared after trimming. A value not in the
    mapping becomes 'unknown' (an accepted_values test on the English column then names it); a null
    becomes `null_as` ('unknown' unless told otherwise, e.g. none to keep null).
-#}
{% macro map_native_value(column, mapping, null_as='unknown') -%}
    case
        when {{ column }} is null then {% if null_as is none %}null{% else %}'{{ null_as }}'{% endif %}
        {%- for native, english in mapping.items() %}
        when trim({{ column }}) = '{{ native }}' then '{{ english }}'
        {%- endfor %}
        else 'unknown'
    end
{%- endmacro %}
