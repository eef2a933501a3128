{{ union_source('deals') }}
