import DriftwatchJinja

let simple = "select * from {{ ref('stg_orders') }} where amount > 0"
let typical = """
  {{ config(materialized='table', tags=['daily', 'finance']) }}
  {%- set payment_methods = ['credit_card', 'coupon', 'bank_transfer', 'gift_card'] -%}
  with orders as (
      select * from {{ ref('stg_orders') }}
  ),
  payments as (
      select * from {{ ref('stg_payments') }}
  ),
  order_payments as (
      select
          order_id,
          {% for payment_method in payment_methods -%}
          sum(case when payment_method = '{{ payment_method }}' then amount else 0 end) as {{ payment_method }}_amount,
          {% endfor -%}
          sum(amount) as total_amount
      from payments
      group by order_id
  )
  select * from orders left join order_payments using (order_id)
  {% if target.name == 'dev' %}limit 100{% endif %}
  """
let macroUser = "{{ simple_cte([('a', 'model_a'), ('b', 'model_b'), ('c', 'model_c')]) }} select * from a"
let macros = """
  {%- macro simple_cte(tuple_list) -%}
  WITH{% for cte_ref in tuple_list %} {{ cte_ref[0] }} AS (
      SELECT * FROM {{ ref(cte_ref[1]) }}
  ){%- if not loop.last -%},{%- endif -%}
  {%- endfor -%}
  {%- endmacro -%}
  """

var library = MacroLibrary()
try library.add(source: macros, file: "macros/simple_cte.sql", package: "shop")
let clock = ContinuousClock()
let n = 3000
for (label, source) in [("simple", simple), ("typical", typical), ("macro", macroUser)] {
  let compileStart = clock.now
  var template = try Template(source, file: "models/m.sql")
  for _ in 0..<n { template = try Template(source, file: "models/m.sql") }
  let compile = clock.now - compileStart
  var refs = 0
  let renderStart = clock.now
  for _ in 0..<n {
    let ctx = DbtParseContext(
      rootProject: "shop", target: ["name": .string("dev"), "type": .string("postgres")])
    _ = try ctx.render(template, library: library)
    refs += ctx.recorder.refs.count
  }
  let render = clock.now - renderStart
  func micros(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 / Double(n) + Double(d.components.attoseconds) / 1e12 / Double(n)
  }
  print(
    "\(label): compile \(Int(micros(compile))) µs, render \(Int(micros(render))) µs per model (\(n) models, \(refs) refs)")
}
