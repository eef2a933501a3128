{{ union_connections('customers') }}
