import Testing

@testable import DriftwatchCore

@Suite("names, types, column usage")
struct SupportTests {
  @Test(arguments: [
    ("customer_segment", ["customer", "segment"]), ("customerSegment", ["customer", "segment"]),
    ("ADDRESS_LINE1", ["address", "line", "1"]), ("customers", ["customer"]), ("status", ["status"]),
    ("categories", ["category"]),
  ])
  func tokens(name: String, expected: [String]) {
    #expect(NameTokens.tokens(name) == expected)
  }

  @Test func nameRelations() {
    let entities = EntityMap.from(oldTable: "raw_customers", newTable: "raw_accounts")
    #expect(entities.substitutions == ["customer": "account"])
    #expect(NameRelation.between(old: "customer_id", new: "account_id", entities: entities).score == 0.9)
    #expect(NameRelation.between(old: "country", new: "country_code", entities: .empty).score == 0.8)
    #expect(NameRelation.between(old: "adress", new: "address", entities: .empty).score == 0.75)
    #expect(NameRelation.between(old: "email", new: "loyalty_points", entities: .empty) == .none)
    #expect(NameRelation.between(old: "CustomerName", new: "customer_name", entities: .empty).score == 0.95)
  }

  @Test(arguments: [
    ("integer", "int4", true), ("timestamp", "timestamp without time zone", true), ("text", "TEXT", true),
    ("numeric(12,2)", "numeric(12, 2)", true), ("numeric(12,2)", "numeric(10,2)", false),
    ("varchar", "character varying(255)", true), ("integer", "bigint", false),
    ("numeric", "numeric(12,2)", true),
    ("timestamp", "timestamptz", false),
  ])
  func typeMatching(declared: String, live: String, matches: Bool) {
    #expect(NormalizedType(declared).matches(NormalizedType(live)) == matches)
  }

  @Test func typeFamilies() {
    #expect(NormalizedType("NUMBER(38,0)").family == .integer)
    #expect(NormalizedType("character varying(20)").family == .string)
    #expect(NormalizedType("timestamp with time zone").family == .temporal)
    #expect(NormalizedType("integer[]").family == .other)
  }

  @Test func columnUsage() {
    let usage = ColumnUsage(
      sql: """
        -- address is only mentioned in a comment
        {# country too #}
        select customer_id, "Email" as e, count(*) as n, 2 * 3 as six, 'segment' as literal
        from {{ source('a', 'b') }}
        """)
    #expect(usage.reads(column: "customer_id"))
    #expect(usage.reads(column: "email"))
    #expect(!usage.reads(column: "address"))
    #expect(!usage.reads(column: "country"))
    #expect(!usage.reads(column: "segment"))
    #expect(!usage.readsEverything)
    #expect(ColumnUsage(sql: "select * from x").readsEverything)
    #expect(ColumnUsage(sql: "select t.* from x as t").readsEverything)
    #expect(ColumnUsage(sql: "select {{ dbt_utils.star(source('a','b')) }} from y").readsEverything)
  }

  @Test func decimals() {
    #expect(Decimal2.format(0.834) == "0.83")
    #expect(Decimal2.format(1) == "1.00")
    #expect(Decimal2.format(0.05) == "0.05")
    #expect(Decimal2.format(12.5, places: 0) == "13")
  }

  @Test func longestIncreasingAnchors() {
    let pairs = [
      (declared: 0, live: 3), (declared: 1, live: 0), (declared: 2, live: 1), (declared: 3, live: 2),
    ]
    #expect(ColumnAligner.longestIncreasing(pairs).map(\.live) == [0, 1, 2])
  }
}
