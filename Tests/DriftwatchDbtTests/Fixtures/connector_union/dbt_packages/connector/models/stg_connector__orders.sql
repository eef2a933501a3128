{{ union_connections('orders') }}
