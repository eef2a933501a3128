{% macro cents(col) %}({{ col }} * 100)::bigint{% endmacro %}
