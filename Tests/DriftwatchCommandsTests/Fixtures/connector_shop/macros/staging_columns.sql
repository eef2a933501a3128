{% macro deals_columns() %}
{{ return([
  {"name": "deal_id", "datatype": "integer"},
  {"name": "stage_id", "datatype": "integer"},
  {"name": "amount", "datatype": "numeric"},
  {"name": "owner_id", "datatype": "integer"}
]) }}
{% endmacro %}

{% macro stages_columns() %}
{{ return([
  {"name": "stage_id", "datatype": "integer"},
  {"name": "label", "datatype": "text"},
  {"name": "probability", "datatype": "integer"}
]) }}
{% endmacro %}

{% macro owners_columns() %}
{{ return([
  {"name": "owner_id", "datatype": "integer"},
  {"name": "owner_name", "datatype": "text"}
]) }}
{% endmacro %}
