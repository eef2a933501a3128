import DriftwatchCore
import Testing

/// The drafter on the patterns of real projects: a renamed table whose source entry other code calls by
/// name (macros), an identifier set by a var, readers it cannot rewrite, accepted_values lists declaring
/// values the data does not hold, sources that declare no columns.
@Suite("fix on real projects")
struct FixRealProjectTests {
  static let sourceID = "source.shop.app.raw_users"

  static func yml(identifier: String? = nil, values: String = "['free', 'pro', 'enterprise']") -> String {
    """
    version: 2
    sources:
      - name: app
        schema: raw
        tables:
          - name: raw_users
    \(identifier.map { "        identifier: \($0)\n" } ?? "")        description: "Users."
            columns:
              - name: id
                data_tests:
                  - unique
              - name: plan
                data_tests:
                  - accepted_values:
                      arguments:
                        values: \(values)
    """
  }

  static let staging = "select id, plan from {{ source('app', 'raw_users') }}\n"
  /// Reads the source only through a project macro: dbt records the dependency, the SQL holds no source().
  static let throughMacro = "{{ union_tables(['raw_users']) }}\n"

  static func project(identifier: String = "raw_users", declared: Bool = true, macroReader: Bool = false)
    -> ProjectGraph
  {
    let users = SourceTable(
      uniqueID: sourceID, packageName: "shop", sourceName: "app", name: "raw_users", schema: "raw",
      identifier: identifier,
      columns: declared ? [.init(name: "id"), .init(name: "plan")] : [], filePath: "models/src_app.yml")
    var nodes = [
      GraphNode(
        uniqueID: "model.shop.stg_users", resourceType: .model, name: "stg_users", packageName: "shop",
        dependsOn: [sourceID], filePath: "models/stg_users.sql", rawCode: staging),
      GraphNode(
        uniqueID: "test.shop.accepted_values_plan", resourceType: .test, name: "accepted_values_plan",
        packageName: "shop", dependsOn: [sourceID], filePath: "models/src_app.yml",
        test: TestInfo(
          testName: "accepted_values", columnName: "plan", attachedNode: sourceID,
          acceptedValues: ["free", "pro", "enterprise"])),
    ]
    if macroReader {
      nodes.append(
        GraphNode(
          uniqueID: "model.shop.users_union", resourceType: .model, name: "users_union", packageName: "shop",
          dependsOn: [sourceID], filePath: "models/users_union.sql", rawCode: throughMacro))
    }
    return ProjectGraph(projectName: "shop", sources: [users], nodes: nodes)
  }

  static func live(_ table: String, plan: String = "plan") -> LiveSchema {
    LiveSchema(
      inspected: [SchemaRef(schema: "raw")],
      tables: [
        LiveTable(
          schema: SchemaRef(schema: "raw"), name: table,
          columns: [
            LiveColumn(name: "id", dataType: "integer", position: 1),
            LiveColumn(name: plan, dataType: "text", position: 2),
          ])
      ])
  }

  static func change(
    _ kind: ChangeKind, from: String?, to: ChangeTarget?, relation: String, column: String? = nil
  ) -> DriftChange {
    DriftChange(
      kind: kind, source: "app.raw_users", sourceID: sourceID, relation: relation, from: from, to: to,
      column: column, confidence: 0.9, breaking: true, evidence: ["fixture"],
      blastRadius: BlastRadius(models: ["model.shop.stg_users"], tests: ["test.shop.accepted_values_plan"]))
  }

  static func report(_ changes: [DriftChange]) -> DriftReport {
    DriftReport(
      project: "shop", warehouse: "memory", schemas: ["raw"], sourcesChecked: 1, changes: changes,
      blastRadius: BlastRadius(), nodes: [:])
  }

  static let tableRename = change(
    .tableRenamed, from: "raw_users", to: .one("members"), relation: "raw.members")

  static func remap(relation: String) -> DriftChange {
    var remap = change(.valuesRemapped, from: "plan", to: .one("plan"), relation: relation, column: "plan")
    remap.mapping = [
      ValueMapping(old: "free", new: "FREE"), ValueMapping(old: "pro", new: "PRO"),
      ValueMapping(old: "enterprise", new: nil),
    ]
    remap.values = ["FREE", "PRO"]
    return remap
  }

  static func file(_ draft: FixDraft, _ path: String) -> String? {
    draft.files.first { $0.path == path }?.content
  }

  @Test func aRenamedTableKeepsItsSourceNameAndGetsTheNewIdentifier() throws {
    // Only the table moved: every source('app', 'raw_users') call — in models or in macros — keeps working
    // once the entry points at the new relation, so no reader is touched.
    let draft = try FixDrafter(
      project: Self.project(macroReader: true), report: Self.report([Self.tableRename]),
      live: Self.live("members"), dialect: .postgres,
      files: [
        "models/src_app.yml": Self.yml(), "models/stg_users.sql": Self.staging,
        "models/users_union.sql": Self.throughMacro,
      ]
    ).draft()
    let yml = try #require(Self.file(draft, "models/src_app.yml"))
    #expect(yml.contains("      - name: raw_users\n"), "the entry keeps its name")
    #expect(yml.contains("        identifier: members\n"))
    #expect(!yml.contains("- name: members"))
    #expect(Self.file(draft, "models/stg_users.sql") == nil, "a plain rename rewrites no reader")
    #expect(Self.file(draft, "models/users_union.sql") == nil)
    #expect(draft.questions.isEmpty)
    let contract = try #require(Self.file(draft, "tests/assert_schema_contract_members.sql"))
    #expect(contract.contains("source('app', 'raw_users')"))
  }

  @Test func anIdentifierSetByAVarChangesTheVar() throws {
    let identifier = "\"{{ var('users_table', 'raw_users') }}\""
    let projectFile = """
      name: shop
      vars:
        shop:
          users_table: raw_users  # where the app writes users
        other_var: 1
      """
    let report = Self.report([Self.tableRename])
    #expect(FixDrafter.requiredFiles(project: Self.project(), report: report).contains("dbt_project.yml"))
    let draft = try FixDrafter(
      project: Self.project(), report: report, live: Self.live("members"), dialect: .postgres,
      files: ["models/src_app.yml": Self.yml(identifier: identifier), "dbt_project.yml": projectFile]
    ).draft()
    let vars = try #require(Self.file(draft, "dbt_project.yml"))
    #expect(vars.contains("\n    users_table: members  # where the app writes users\n"), "its comment stays")
    #expect(vars.contains("  other_var: 1"), "the rest of dbt_project.yml is left as it was")
    let yml = try #require(Self.file(draft, "models/src_app.yml"))
    #expect(yml.contains("identifier: \(identifier)\n"), "the identifier still comes from the var")
    #expect(!yml.contains("identifier: members"))

    // Not set in dbt_project.yml: dbt uses the default, so the default changes.
    let unset = try FixDrafter(
      project: Self.project(), report: report, live: Self.live("members"), dialect: .postgres,
      files: ["models/src_app.yml": Self.yml(identifier: identifier), "dbt_project.yml": "name: shop\n"]
    ).draft()
    #expect(Self.file(unset, "dbt_project.yml") == nil)
    let defaulted = try #require(Self.file(unset, "models/src_app.yml"))
    #expect(defaulted.contains(#"identifier: "{{ var('users_table', 'members') }}""#))
  }

  @Test func aReaderItCannotRewriteIsAQuestionNamingItsFile() throws {
    let rename = Self.change(.columnRenamed, from: "plan", to: .one("tier"), relation: "raw.raw_users")
    let files = [
      "models/src_app.yml": Self.yml(), "models/stg_users.sql": Self.staging,
      "models/users_union.sql": Self.throughMacro,
    ]
    let draft = try FixDrafter(
      project: Self.project(macroReader: true), report: Self.report([rename]),
      live: Self.live("raw_users", plan: "tier"), dialect: .postgres, files: files
    ).draft()
    let question = try #require(draft.questions.first { $0.kind == .rewriteByHand })
    #expect(question.subject == "models/users_union.sql")
    #expect(question.isOpen)
    #expect(question.prompt.contains("tier as plan") || question.prompt.contains("plan ← tier"))
    #expect(Self.file(draft, "models/stg_users.sql")?.contains("tier as plan") == true)
    #expect(Self.file(draft, "models/users_union.sql") == nil)

    // Its id is a decision key like any change's: accepting it settles the question.
    let answered = try FixDrafter(
      project: Self.project(macroReader: true), report: Self.report([rename]),
      live: Self.live("raw_users", plan: "tier"), dialect: .postgres, files: files,
      decisions: Decisions([question.changeID: Decision(accept: true)])
    ).draft()
    #expect(answered.openQuestions.isEmpty)
    let rejected = try FixDrafter(
      project: Self.project(macroReader: true), report: Self.report([rename]),
      live: Self.live("raw_users", plan: "tier"), dialect: .postgres, files: files,
      decisions: Decisions([question.changeID: Decision(accept: false)])
    ).draft()
    #expect(rejected.expectedFailures.contains { $0.changeID == question.changeID })
  }

  /// The macro reader with the SQL it compiles to (against the live schema, or the manifest's compiled_code).
  static func projectWithCompiledMacroReader(_ sql: String, status: CompiledReader.Status = .compiled)
    -> ProjectGraph
  {
    var graph = project(macroReader: true)
    graph.nodes["model.shop.users_union"]?.compiled = CompiledReader(sql: sql, status: status)
    return graph
  }

  @Test func aMacroReaderThatSelectsTheTablesRowsAsTheyAreIsMappedAroundItsWholeText() throws {
    let rename = Self.change(.columnRenamed, from: "plan", to: .one("tier"), relation: "raw.raw_users")
    let files = [
      "models/src_app.yml": Self.yml(), "models/stg_users.sql": Self.staging,
      "models/users_union.sql": Self.throughMacro,
    ]
    let compiled = "\n-- the union macro, one table\nselect * from \"analytics\".\"raw\".\"raw_users\";\n"
    let draft = try FixDrafter(
      project: Self.projectWithCompiledMacroReader(compiled), report: Self.report([rename]),
      live: Self.live("raw_users", plan: "tier"), dialect: .postgres, files: files
    ).draft()
    #expect(!draft.questions.contains { $0.kind == .rewriteByHand }, "\(draft.questions)")
    let wrapped = try #require(Self.file(draft, "models/users_union.sql"))
    #expect(
      wrapped.contains(
        "select\n    id,\n    tier as plan\nfrom (\n{{ union_tables(['raw_users']) }}\n) as raw_users\n"),
      "\(wrapped)")
    #expect(wrapped.hasPrefix("-- driftwatch ("))

    // Anything more than the table's rows as they are (a filter, other columns, an approximate render, a
    // different table) is not wrapped: it stays a question naming the file.
    for (sql, status) in [
      ("select * from raw.raw_users where id > 1", CompiledReader.Status.compiled),
      ("select id from raw.raw_users", .compiled), ("select * from raw.other_users", .compiled),
      ("select * from raw.raw_users", .approximate),
    ] {
      let other = try FixDrafter(
        project: Self.projectWithCompiledMacroReader(sql, status: status), report: Self.report([rename]),
        live: Self.live("raw_users", plan: "tier"), dialect: .postgres, files: files
      ).draft()
      #expect(
        other.questions.contains { $0.kind == .rewriteByHand && $0.subject == "models/users_union.sql" },
        "\(sql)")
      #expect(Self.file(other, "models/users_union.sql") == nil, "\(sql)")
    }
  }

  @Test func aReaderInAnInstalledPackageIsAQuestionNamingItsFileNeverASilentSkip() throws {
    let rename = Self.change(.columnRenamed, from: "plan", to: .one("tier"), relation: "raw.raw_users")
    var graph = Self.project()
    let path = "models/stg_connector__users.sql"
    graph.nodes["model.connector.stg_connector__users"] = GraphNode(
      uniqueID: "model.connector.stg_connector__users", resourceType: .model, name: "stg_connector__users",
      packageName: "connector", dependsOn: [Self.sourceID], filePath: path, rawCode: Self.staging)
    let files = ["models/src_app.yml": Self.yml(), "models/stg_users.sql": Self.staging]
    let draft = try FixDrafter(
      project: graph, report: Self.report([rename]), live: Self.live("raw_users", plan: "tier"),
      dialect: .postgres, files: files
    ).draft()
    let question = try #require(draft.questions.first { $0.kind == .rewriteByHand })
    #expect(question.subject == "connector:" + path)
    #expect(question.prompt.contains("installed package connector"), "\(question.prompt)")
    #expect(Self.file(draft, path) == nil, "a package's file is not edited")
    #expect(Self.file(draft, "models/stg_users.sql")?.contains("tier as plan") == true)
    // Its id is a decision key like any change's.
    let answered = try FixDrafter(
      project: graph, report: Self.report([rename]), live: Self.live("raw_users", plan: "tier"),
      dialect: .postgres, files: files, decisions: Decisions([question.changeID: Decision(accept: true)])
    ).draft()
    #expect(answered.openQuestions.isEmpty)
  }

  @Test func acceptedValuesKeepEveryDeclaredValue() throws {
    let remap = Self.remap(relation: "raw.raw_users")
    let files = ["models/src_app.yml": Self.yml(), "models/stg_users.sql": Self.staging]
    let draft = try FixDrafter(
      project: Self.project(), report: Self.report([remap]), live: Self.live("raw_users"),
      dialect: .postgres, files: files,
      decisions: Decisions([remap.id: Decision(mapping: ["free": "FREE", "pro": "PRO"])])
    ).draft()
    let yml = try #require(Self.file(draft, "models/src_app.yml"))
    // enterprise is declared but not in the data: no answer maps it, and it is kept as written.
    #expect(yml.contains("values: [\"FREE\", \"PRO\", 'enterprise']"), "\(yml)")

    // A block list (at its key's indent, as YAML allows), and a rejected mapping: the declared values
    // stay, the live ones join them.
    let item = "\n" + String(repeating: " ", count: 20) + "- "
    let block = Self.yml(values: item + "free" + item + "pro" + item + "enterprise")
    let rejected = try FixDrafter(
      project: Self.project(), report: Self.report([remap]), live: Self.live("raw_users"),
      dialect: .postgres, files: ["models/src_app.yml": block, "models/stg_users.sql": Self.staging],
      decisions: Decisions([remap.id: Decision(accept: false)])
    ).draft()
    let kept = try #require(Self.file(rejected, "models/src_app.yml"))
    #expect(kept.contains("values: [free, pro, enterprise, \"FREE\", \"PRO\"]"), "\(kept)")
  }

  @Test func aSourceWithNoDeclaredColumnsHasItsReadColumnMappedBack() throws {
    // jaffle-shop's sources declare no columns; stg_orders reads `customer`, renamed to `customer_id`.
    let rename = Self.change(.columnRenamed, from: "plan", to: .one("tier"), relation: "raw.raw_users")
    let yml = """
      version: 2
      sources:
        - name: app
          schema: raw
          tables:
            - name: raw_users
      """
    let draft = try FixDrafter(
      project: Self.project(declared: false), report: Self.report([rename]),
      live: Self.live("raw_users", plan: "tier"), dialect: .postgres,
      files: ["models/src_app.yml": yml, "models/stg_users.sql": Self.staging]
    ).draft()
    let staging = try #require(Self.file(draft, "models/stg_users.sql"))
    #expect(staging.contains("tier as plan,"), "\(staging)")
    #expect(staging.contains("        id\n"), "the other live columns pass through")
    #expect(Self.file(draft, "models/src_app.yml") == nil, "a source declaring no columns gets none")
    let contract = try #require(Self.file(draft, "tests/assert_schema_contract_raw_users.sql"))
    #expect(contract.contains("select 'tier' as column_name"))
  }
}
