select {{ money.cents('amount') }} from {{ ref(money.pick()) }}
