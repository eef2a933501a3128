import DriftwatchCore
import Testing

@Suite struct SelectorParseTests {
  @Test func graphOperators() throws {
    let plain = try #require(NodeSelector.parse("stg_orders").terms.first?.criteria.first)
    #expect(plain.method == .fqn)
    #expect(plain.value == "stg_orders")
    #expect(!plain.parents && !plain.children && !plain.childrensParents)

    let both = try #require(NodeSelector.parse("2+source:raw.orders+3").terms.first?.criteria.first)
    #expect(both.method == .source)
    #expect(both.value == "raw.orders")
    #expect(both.parents && both.parentsDepth == 2)
    #expect(both.children && both.childrenDepth == 3)

    let unbounded = try #require(NodeSelector.parse("+x+").terms.first?.criteria.first)
    #expect(
      unbounded.parents && unbounded.parentsDepth == nil && unbounded.children
        && unbounded.childrenDepth == nil)

    let at = try #require(NodeSelector.parse("@tag:nightly").terms.first?.criteria.first)
    #expect(at.childrensParents && at.method == .tag && at.value == "nightly")

    // Digits are part of the name unless a '+' follows them.
    let digits = try #require(NodeSelector.parse("2024_orders").terms.first?.criteria.first)
    #expect(digits.value == "2024_orders" && !digits.parents)
    let trailing = try #require(NodeSelector.parse("model1+").terms.first?.criteria.first)
    #expect(trailing.value == "model1" && trailing.children && trailing.childrenDepth == nil)
  }

  @Test func defaultMethods() throws {
    #expect(try NodeSelector.parse("models/staging").terms[0].criteria[0].method == .path)
    #expect(try NodeSelector.parse("stg_orders.sql").terms[0].criteria[0].method == .file)
    #expect(try NodeSelector.parse("marts.core.*").terms[0].criteria[0].method == .fqn)
    // dotted method arguments are read (and ignored, as dbt does for every method but config)
    let dotted = try #require(NodeSelector.parse("tag.extra:nightly").terms.first?.criteria.first)
    #expect(dotted.method == .tag && dotted.methodArguments == ["extra"] && dotted.value == "nightly")
  }

  @Test func unionsAndIntersections() throws {
    let selector = try NodeSelector.parse("  a b,tag:x   c ")
    #expect(selector.terms.map(\.text) == ["a", "b,tag:x", "c"])
    #expect(selector.terms[1].criteria.map(\.method) == [.fqn, .tag])
    #expect(selector.text == "a b,tag:x   c")
    #expect(selector.description == "a b,tag:x   c")
    let excluding = try NodeSelector.parse(select: "a+", exclude: "b")
    #expect(excluding.exclusions.map(\.text) == ["b"])
    #expect(excluding.description == "a+ --exclude b")
  }

  /// Every rejection says what is wrong and lists the accepted forms.
  @Test(arguments: [
    ("", "the selector is empty"),
    ("   ", "the selector is empty"),
    ("@x+", "invalid selector '@x+': '@' and a trailing '+' cannot be combined"),
    ("foo:bar", "invalid selector 'foo:bar': 'foo' is not a selector method"),
    ("state:modified", "the 'state:' method is not supported because it compares with a previous manifest"),
    ("config.materialized:view", "the 'config:' method is not supported"),
    ("source:a.b.c.d", "a source is source_name, source_name.table_name or package.source_name.table_name"),
    ("exposure:a.b.c", "exposure: takes a name or package.name"),
    ("resource_type:table", "'table' is not a resource type (use one of source, model, seed"),
    ("test_type:weird", "'weird' is not a test type"),
    ("+", "invalid selector '+': it names no node"),
    ("tag:", "invalid selector 'tag:': it names no node"),
    ("x++", "'+' and '@' only go before or after a name"),
    ("a,,b", "an intersection needs a criterion on both sides of each comma"),
    ("path:/etc", "a path is relative to the project root"),
  ])
  func badSelectors(text: String, expected: String) {
    #expect {
      _ = try NodeSelector.parse(text)
    } throws: { error in
      guard let error = error as? InputError else { return false }
      return error.message.contains(expected) && error.message.contains("accepted forms: a node name")
        && error.message.contains("+x, x+, 2+x, x+3, @x") && error.message == error.message.lowercased()
    }
  }

  @Test func badExcludeSaysSo() {
    #expect(throws: InputError.self) { try NodeSelector.parse(select: "a", exclude: "bogus:x") }
    do {
      _ = try NodeSelector.parse(select: "a", exclude: "bogus:x")
    } catch let error as InputError {
      #expect(error.message.hasPrefix("invalid exclude selector 'bogus:x'"))
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}

@Suite struct SelectorEvaluationTests {
  let graph = LineageFixture.graph

  func select(_ text: String, types: Set<ResourceType> = NodeSelector.listedResourceTypes) throws -> Set<
    String
  > {
    try graph.select(NodeSelector.parse(text), resourceTypes: types)
  }

  static let uniqueTest = "test.shop.unique_stg_orders_order_id.1a"
  static let sourceTest = "test.shop.source_not_null_raw_orders_id.2b"
  static let relationships = "test.shop.relationships_fct_orders_customer_id.3c"
  static let singular = "test.shop.assert_positive_totals"
  static let exposure = "exposure.shop.weekly_dashboard"

  @Test func aNameSelectsTheNodeAndItsTests() throws {
    #expect(try select("stg_orders") == ["model.shop.stg_orders", Self.uniqueTest])
    #expect(try select("fqn:stg_orders") == ["model.shop.stg_orders", Self.uniqueTest])
  }

  @Test func childrenIncludeTestsExposuresButNotAnalysesByDefault() throws {
    #expect(
      try select("stg_orders+") == [
        "model.shop.stg_orders", "model.shop.int_orders_joined", "model.shop.fct_orders",
        "model.other_pkg.pkg_model",
        Self.uniqueTest, Self.relationships, Self.singular, Self.exposure,
      ])
    let all = Set(ResourceType.allCases)
    #expect(try select("stg_orders+", types: all).contains("analysis.shop.adhoc"))
  }

  @Test func parentsWithEagerTests() throws {
    // relationships has one parent (fct_orders) inside and one (dim_customers) outside: eager selects it.
    #expect(
      try select("+fct_orders") == [
        "model.shop.fct_orders", "model.shop.int_orders_joined", "model.shop.stg_orders",
        "model.shop.stg_customers",
        "source.shop.raw.orders", "source.shop.raw.customers", Self.uniqueTest, Self.sourceTest,
        Self.relationships,
        Self.singular,
      ])
    #expect(
      try select("1+fct_orders") == [
        "model.shop.fct_orders", "model.shop.int_orders_joined", Self.relationships, Self.singular,
      ])
  }

  @Test func depthLimits() throws {
    #expect(
      try select("stg_orders+1") == [
        "model.shop.stg_orders", "model.shop.int_orders_joined", "model.other_pkg.pkg_model", Self.uniqueTest,
      ])
    #expect(try select("stg_orders+0") == ["model.shop.stg_orders", Self.uniqueTest])
    #expect(try select("source:raw.orders+2").contains("model.shop.int_orders_joined"))
    #expect(try !select("source:raw.orders+2").contains("model.shop.fct_orders"))
    #expect(try select("2+int_orders_joined").contains("source.shop.raw.customers"))
  }

  @Test func atSelectsChildrenAndAllTheirParents() throws {
    #expect(
      try select("@dim_customers") == [
        "model.shop.dim_customers", Self.relationships, Self.exposure, "model.shop.stg_customers",
        "seed.shop.country_codes", "source.shop.raw.customers", "model.shop.fct_orders",
        "model.shop.int_orders_joined", "model.shop.stg_orders", "source.shop.raw.orders", Self.uniqueTest,
        Self.sourceTest, Self.singular,
      ])
  }

  @Test func sourceForms() throws {
    let sources: Set<String> = [
      "source.shop.raw.orders", "source.shop.raw.customers", "source.shop.raw.unused",
    ]
    #expect(try select("source:raw") == sources.union([Self.sourceTest]))
    #expect(try select("source:raw.*") == sources.union([Self.sourceTest]))
    #expect(try select("source:shop.raw.orders") == ["source.shop.raw.orders", Self.sourceTest])
    #expect(try select("source:*.cust*") == ["source.shop.raw.customers"])
    #expect(try select("source:raw.unused+") == ["source.shop.raw.unused"])
    // dbt ls -s source:raw.orders+ lists the source itself, its tests, everything downstream and exposures.
    #expect(
      try select("source:raw.orders+") == [
        "source.shop.raw.orders", Self.sourceTest, "model.shop.stg_orders", Self.uniqueTest,
        "model.shop.int_orders_joined", "model.shop.fct_orders", "model.other_pkg.pkg_model",
        Self.relationships,
        Self.singular, Self.exposure, "snapshot.shop.orders_snapshot",
      ])
    // a bare name never matches a source
    #expect(try select("orders").isEmpty)
  }

  @Test func exposuresTagsPackagesAndResourceTypes() throws {
    #expect(try select("exposure:weekly_dashboard") == [Self.exposure])
    #expect(try select("exposure:shop.weekly_*") == [Self.exposure])
    #expect(
      try select("+exposure:weekly_dashboard").isSuperset(of: [
        "model.shop.fct_orders", "seed.shop.country_codes",
      ]))
    #expect(
      try select("tag:staging") == ["model.shop.stg_orders", "model.shop.stg_customers", Self.uniqueTest])
    #expect(try select("tag:pii") == ["source.shop.raw.customers"])
    #expect(try select("tag:night*") == ["model.shop.fct_orders", Self.relationships, Self.singular])
    #expect(try select("package:other_pkg") == ["model.other_pkg.pkg_model"])
    #expect(try select("package:this").count == 16)  // everything in shop but the analysis
    #expect(try select("resource_type:exposure") == [Self.exposure])
    #expect(try select("resource_type:seed") == ["seed.shop.country_codes"])
    #expect(try select("resource_type:source").count == 4)  // three sources and the test on raw.orders
    #expect(try select("resource_type:analysis").isEmpty)
    #expect(try select("resource_type:analysis", types: [.analysis]) == ["analysis.shop.adhoc"])
    #expect(try select("resource_type:function").isEmpty)
  }

  @Test func pathsAndFiles() throws {
    let staging: Set<String> = [
      "model.shop.stg_orders", "model.shop.stg_customers", Self.uniqueTest, Self.sourceTest,
      "source.shop.raw.orders", "source.shop.raw.customers", "source.shop.raw.unused",
    ]
    #expect(try select("path:models/staging") == staging)
    #expect(try select("models/staging/") == staging)
    #expect(try select("path:./models/staging") == staging)
    #expect(
      try select("path:models/marts/core/*.sql") == [
        "model.shop.fct_orders", "model.shop.dim_customers", Self.relationships, Self.singular,
      ])
    #expect(
      try select("path:models/**/fct_*.sql") == ["model.shop.fct_orders", Self.relationships, Self.singular])
    #expect(try select("path:models/marts/core/_core.yml") == [Self.relationships])
    #expect(try select("path:models/stag").isEmpty)
    #expect(try select("stg_orders.sql") == ["model.shop.stg_orders", Self.uniqueTest])
    #expect(
      try select("file:stg_*") == ["model.shop.stg_orders", "model.shop.stg_customers", Self.uniqueTest])
  }

  @Test func fqnWildcardsAndFolders() throws {
    // tests defined in a yml under models/staging have fqn [shop, staging, <test>] too
    let staging: Set<String> = [
      "model.shop.stg_orders", "model.shop.stg_customers", Self.uniqueTest, Self.sourceTest,
    ]
    #expect(try select("staging.*") == staging)
    // the first folder under models/ selects everything whose fqn starts there; deeper folders do not
    #expect(try select("staging") == staging)
    #expect(
      try select("marts") == [
        "model.shop.fct_orders", "model.shop.dim_customers", Self.relationships, Self.singular, Self.exposure,
      ])
    #expect(try select("core").isEmpty)
    #expect(
      try select("marts.core") == [
        "model.shop.fct_orders", "model.shop.dim_customers", Self.relationships, Self.singular,
      ])
    #expect(
      try select("marts.core.fct_orders") == ["model.shop.fct_orders", Self.relationships, Self.singular])
    #expect(
      try select("shop.marts.core.fct_orders") == [
        "model.shop.fct_orders", Self.relationships, Self.singular,
      ])
    #expect(try select("fct_*") == ["model.shop.fct_orders", Self.relationships, Self.singular])
    #expect(try select("other_pkg") == ["model.other_pkg.pkg_model"])
    #expect(try select("fqn:*").count == 14)  // every non-source node but the analysis
  }

  @Test func testNamesAndTypes() throws {
    #expect(try select("test_name:relationships") == [Self.relationships])
    #expect(try select("test_name:not_*") == [Self.sourceTest])
    #expect(try select("test_type:singular") == [Self.singular])
    #expect(try select("test_type:generic") == [Self.uniqueTest, Self.sourceTest, Self.relationships])
    #expect(try select("test_type:data").count == 4)
  }

  @Test func intersectionsApplyEagerTestsPerCriterion() throws {
    #expect(
      try select("+fct_orders,tag:staging") == [
        "model.shop.stg_orders", "model.shop.stg_customers", Self.uniqueTest,
      ])
    #expect(try select("tag:staging,stg_orders") == ["model.shop.stg_orders", Self.uniqueTest])
    // resource_type:model brings the tests on models along too (dbt ls -s resource_type:seed lists seed tests)
    #expect(
      try select("stg_orders+,resource_type:model") == [
        "model.shop.stg_orders", "model.shop.int_orders_joined", "model.shop.fct_orders",
        "model.other_pkg.pkg_model",
        Self.uniqueTest, Self.relationships, Self.singular,
      ])
    #expect(try select("tag:staging,tag:nightly").isEmpty)
  }

  @Test func unionsAndUnmatchedTerms() throws {
    let selection = try graph.evaluate(NodeSelector.parse("stg_orders nothing_here dim_customers,tag:none"))
    #expect(selection.unmatchedTerms == ["nothing_here", "dim_customers,tag:none"])
    #expect(selection.ids == ["model.shop.stg_orders", Self.uniqueTest])
    #expect(selection.selector == "stg_orders nothing_here dim_customers,tag:none")
    // a term that matches only analyses did match: dbt's warning fires before the resource-type filter
    #expect(try graph.evaluate(NodeSelector.parse("adhoc")).unmatchedTerms.isEmpty)
  }

  @Test func exclusionsTakeTheirTestsWithThem() throws {
    let selection = try graph.evaluate(NodeSelector.parse(select: "stg_orders+", exclude: "fct_orders ghost"))
    #expect(
      selection.ids == [
        "model.shop.stg_orders", "model.shop.int_orders_joined", "model.other_pkg.pkg_model", Self.uniqueTest,
        Self.exposure,
      ])
    #expect(selection.unmatchedExclusions == ["ghost"])
    #expect(selection.unmatchedTerms.isEmpty)
  }

  @Test func globbing() throws {
    // through the public surface: fnmatch classes, ? and unclosed brackets
    #expect(
      try select("stg_[oc]*") == ["model.shop.stg_orders", "model.shop.stg_customers", Self.uniqueTest])
    #expect(try select("stg_[!o]*") == ["model.shop.stg_customers"])
    #expect(try select("stg_?rders") == ["model.shop.stg_orders", Self.uniqueTest])
    #expect(try select("stg_[a-d]ustomers") == ["model.shop.stg_customers"])
    #expect(try select("stg_[orders").isEmpty)
    #expect(try select("STG_ORDERS").isEmpty)  // case-sensitive, as dbt on Linux
  }
}
