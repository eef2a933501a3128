import DriftwatchJinja
import Testing

@testable import DriftwatchDbt

/// The pieces of dbt's test ids, checked against values computed by Python (hashlib, repr, PyYAML) and
/// against ids and aliases dbt 1.11.16 wrote for the fixture project.
@Suite struct GenericTestNamingTests {
  @Test func md5MatchesKnownDigests() {
    #expect(MD5.hex("") == "d41d8cd98f00b204e9800998ecf8427e")
    #expect(MD5.hex("abc") == "900150983cd24fb0d6963f7d28e17f72")
    #expect(MD5.hex("The quick brown fox jumps over the lazy dog") == "9e107d9d372bb6826bd81d3542a419d6")
    #expect(MD5.hex(String(repeating: "a", count: 1000)) == "cabe45dcc9ae5b66ba86600cca6b8ba8")
    #expect(MD5.hex("größe ☕") == "066b96639039be0b8f397f2283c60872")
  }

  @Test func pythonReprOfStrings() {
    #expect(PyValue.str("plain").pythonRepr == "'plain'")
    #expect(PyValue.str("it's").pythonRepr == "\"it's\"")
    #expect(PyValue.str("both ' and \"").pythonRepr == "'both \\' and \"'")
    #expect(PyValue.str("tab\tnew\nline").pythonRepr == "'tab\\tnew\\nline'")
    #expect(PyValue.str("back\\slash").pythonRepr == "'back\\\\slash'")
    #expect(PyValue.str("say \"hi\"").pythonRepr == "'say \"hi\"'")
    #expect(PyValue.str("é").pythonRepr == "'é'")
    #expect(PyValue.str("\u{01}").pythonRepr == "'\\x01'")
    #expect(PyValue.str("\u{200B}").pythonRepr == "'\\u200b'")
    #expect(PyValue.str("\u{A0}").pythonRepr == "'\\xa0'")
  }

  @Test func pythonReprOfFloats() {
    let expected: [(Double, String)] = [
      (1.5, "1.5"), (1e16, "1e+16"), (1e-05, "1e-05"), (0.0001, "0.0001"), (100.0, "100.0"), (1e22, "1e+22"),
      (123_456_789_012_345_678.0, "1.2345678901234568e+17"), (0.1 + 0.2, "0.30000000000000004"),
      (1e15, "1000000000000000.0"), (2.5e-7, "2.5e-07"), (-3.0, "-3.0"),
    ]
    for (value, repr) in expected {
      #expect(PyValue.float(value).pythonRepr == repr, "\(value)")
    }
  }

  @Test func pyyamlResolvesPlainScalarsAsYAML11() {
    func str(_ text: String) -> String { PyYAML.resolve(text).pythonStr }
    #expect(PyYAML.resolve("yes") == .bool(true))
    #expect(PyYAML.resolve("No") == .bool(false))
    #expect(PyYAML.resolve("on") == .bool(true))
    #expect(str("012") == "10")
    #expect(str("0x1F") == "31")
    #expect(str("0b101") == "5")
    #expect(str("1_000") == "1000")
    #expect(str("1:30") == "90")
    #expect(str("-0") == "0")
    #expect(PyYAML.resolve("1e5") == .str("1e5"))
    #expect(PyYAML.resolve("1.5e3") == .str("1.5e3"))
    #expect(str("1.0e+5") == "100000.0")
    #expect(str(".5") == "0.5")
    #expect(str("1.") == "1.0")
    #expect(PyYAML.resolve("-.5") == .str("-.5"))
    #expect(PyYAML.resolve("+.5") == .str("+.5"))
    #expect(PyYAML.resolve("08") == .str("08"))
    #expect(PyYAML.resolve("0o7") == .str("0o7"))
    #expect(PyYAML.resolve("2020-01-05") == .str("2020-01-05"))
    #expect(PyYAML.resolve("~") == .none)
    #expect(PyYAML.resolve("") == .none)
    #expect(str(".inf") == "inf")
    #expect(str("-.Inf") == "-inf")
  }

  @Test func namesFollowDbtsSynthesis() {
    let arguments = [
      PyPair(key: .str("values"), value: .list([.str("premium"), .str("standard"), .str("basic")])),
      PyPair(key: .str("column_name"), value: .str("customer_segment")),
      PyPair(key: .str("model"), value: .str("{{ get_where_subquery(ref('stg_customers')) }}")),
    ]
    let names = GenericTestNaming.synthesizeNames(
      testType: "accepted_values", targetName: "stg_customers", arguments: arguments)
    #expect(names.full == "accepted_values_stg_customers_customer_segment__premium__standard__basic")
    // The alias dbt 1.11.16 gave this test: 30 characters of `<type>_<target>`, then the MD5 of the full name.
    #expect(names.short == "accepted_values_stg_customers_9a15336891622fcf43d6c3cc41f1387a")
  }

  @Test func shortNamesStayWhole() {
    let names = GenericTestNaming.synthesizeNames(
      testType: "not_null", targetName: "orders",
      arguments: [PyPair(key: .str("column_name"), value: .str("id"))])
    #expect(names.short == "not_null_orders_id")
    #expect(names.full == "not_null_orders_id")
  }

  @Test func argumentsAreCleanedAndDictsContributeValues() {
    let arguments = [
      PyPair(key: .str("to"), value: .str("ref('dim_customers', v=1)")),
      PyPair(key: .str("field"), value: .str("customer_id")),
      PyPair(key: .str("column_name"), value: .str("customer_id")),
      PyPair(key: .str("extra"), value: .dict([PyPair(key: .str("k"), value: .bool(false))])),
    ]
    let names = GenericTestNaming.synthesizeNames(
      testType: "relationships", targetName: "fct_orders", arguments: arguments)
    #expect(names.full == "relationships_fct_orders_customer_id__False__customer_id__ref_dim_customers_v_1_")
    #expect(GenericTestNaming.clean("a || ''") == "a_")
    #expect(GenericTestNaming.clean("amount >= 0") == "amount_0")
  }

  @Test func noArgumentsLeaveATrailingUnderscore() {
    let names = GenericTestNaming.synthesizeNames(
      testType: "helpers_has_rows", targetName: "stg_orders",
      arguments: [PyPair(key: .str("model"), value: .str("{{ get_where_subquery(ref('stg_orders')) }}"))])
    #expect(names.full == "helpers_has_rows_stg_orders_")
  }

  @Test func hashesMatchDbt() {
    // test.jaffle_drift.not_null_stg_customers_customer_id.e2cfb1f9aa, as dbt 1.11.16 wrote it.
    let hash = GenericTestNaming.hash(
      name: "not_null_stg_customers_customer_id", namespace: nil, testName: "not_null",
      kwargs: [
        PyPair(key: .str("column_name"), value: .str("customer_id")),
        PyPair(key: .str("model"), value: .str("{{ get_where_subquery(ref('stg_customers')) }}")),
      ])
    #expect(hash == "e2cfb1f9aa")
    // Scalars are hashed as their str(): quote=False and integer values.
    let accepted = GenericTestNaming.hash(
      name: "accepted_values_stg_orders_status_code__False__1__2__3__4__5__6__7__8__9__10__11__12",
      namespace: nil, testName: "accepted_values",
      kwargs: [
        PyPair(key: .str("column_name"), value: .str("status_code")),
        PyPair(key: .str("values"), value: .list((1...12).map { .int(String($0)) })),
        PyPair(key: .str("quote"), value: .bool(false)),
        PyPair(key: .str("model"), value: .str("{{ get_where_subquery(ref('stg_orders')) }}")),
      ])
    #expect(accepted == "3401b6eac3")
  }

  @Test func testNamesSplitTheirNamespace() {
    #expect(GraphAssembler.parseTestName("unique")?.namespace == nil)
    #expect(GraphAssembler.parseTestName("dbt_utils.expression_is_true")?.namespace == "dbt_utils")
    #expect(GraphAssembler.parseTestName("dbt_utils.expression_is_true")?.name == "expression_is_true")
    #expect(GraphAssembler.parseTestName("9lives") == nil)
  }

  @Test func functionLookalikes() {
    #expect(GraphAssembler.looksLikeFunction("ref('x')"))
    #expect(GraphAssembler.looksLikeFunction("  source('a', 'b') "))
    #expect(!GraphAssembler.looksLikeFunction("ref_count > 0"))
    #expect(!GraphAssembler.looksLikeFunction("ref()"))
    #expect(!GraphAssembler.looksLikeFunction("ref('x')\n"))
  }
}
