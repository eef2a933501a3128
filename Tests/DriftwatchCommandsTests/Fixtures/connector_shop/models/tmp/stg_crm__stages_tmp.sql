{{ union_source('stages') }}
