{{ union_source('owners') }}
