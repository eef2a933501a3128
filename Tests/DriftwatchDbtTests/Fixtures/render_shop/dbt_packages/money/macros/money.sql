{% macro pick() %}{{ return(adapter.dispatch('pick', 'money')()) }}{% endmacro %}
{% macro default__pick() %}{{ return('stg_a') }}{% endmacro %}
{% macro postgres__pick() %}{{ return('stg_b') }}{% endmacro %}
{% macro cents(col) %}{{ return(adapter.dispatch('cents', 'money')(col)) }}{% endmacro %}
{% macro default__cents(col) %}({{ col }} / 100){% endmacro %}
{% macro payments() %}{{ return(source('raw', 'payments')) }}{% endmacro %}
