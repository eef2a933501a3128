import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The drafter on a hand-made project that has every change kind it fixes: table rename, column rename,
/// split, value remap, type change and a missing column; drafted SQL and YAML pinned per dialect.
@Suite("fix drafter")
struct FixDrafterTests {
  static let sourceID = "source.shop.app.raw_users"

  static let yml = """
    version: 2

    # Replicated from the app. Keep in sync.
    sources:
      - name: app
        schema: raw
        tables:
          - name: raw_users
            description: "Users."
            loaded_at_field: signup_ts
            columns:
              - name: id
                description: "Primary key."
                data_type: integer
                data_tests:
                  - unique
                  - not_null
              - name: full_address
                data_type: text
              - name: plan
                data_type: text
                data_tests:
                  - accepted_values:
                      arguments:
                        values: ['free', 'pro']
              - name: signup_ts
                data_type: timestamp
              - name: legacy_flag
                data_type: boolean

          # Orders: owned by checkout.
          - name: raw_orders
            columns:
              - name: user_id
                data_tests:
                  - relationships:
                      arguments:
                        to: source('app', 'raw_users')
                        field: id
    """

  static let staging = """
    with users as (
        select * from {{ source('app', 'raw_users') }}
    ),
    orders as (
        select * from {{ source('app', 'raw_orders') }}
    )
    select users.id, users.plan, count(*) as orders
    from users join orders on orders.user_id = users.id
    group by 1, 2
    """

  static let aliased = """
    select u.id, u.full_address, u.signup_ts, u.legacy_flag
    from {{ source('app', 'raw_users') }} as u -- all users
    where u.plan <> 'free'
    """

  static var project: ProjectGraph {
    let users = SourceTable(
      uniqueID: sourceID, packageName: "shop", sourceName: "app", name: "raw_users", schema: "raw",
      columns: [
        .init(name: "id", dataType: "integer"), .init(name: "full_address", dataType: "text"),
        .init(name: "plan", dataType: "text"), .init(name: "signup_ts", dataType: "timestamp"),
        .init(name: "legacy_flag", dataType: "boolean"),
      ], filePath: "models/src_app.yml")
    let orders = SourceTable(
      uniqueID: "source.shop.app.raw_orders", packageName: "shop", sourceName: "app", name: "raw_orders",
      schema: "raw", columns: [.init(name: "user_id")], filePath: "models/src_app.yml")
    let nodes = [
      GraphNode(
        uniqueID: "model.shop.stg_users", resourceType: .model, name: "stg_users", packageName: "shop",
        dependsOn: [sourceID, orders.uniqueID], filePath: "models/stg_users.sql", rawCode: staging),
      GraphNode(
        uniqueID: "model.shop.paying_users", resourceType: .model, name: "paying_users", packageName: "shop",
        dependsOn: [sourceID], filePath: "models/paying_users.sql", rawCode: aliased),
      GraphNode(
        uniqueID: "test.shop.accepted_values_plan", resourceType: .test, name: "accepted_values_plan",
        packageName: "shop", dependsOn: [sourceID], filePath: "models/src_app.yml",
        test: TestInfo(
          testName: "accepted_values", columnName: "plan", attachedNode: sourceID,
          acceptedValues: ["free", "pro"])),
      GraphNode(
        uniqueID: "test.shop.relationships_orders_user", resourceType: .test,
        name: "relationships_orders_user",
        packageName: "shop", dependsOn: [sourceID, orders.uniqueID], filePath: "models/src_app.yml",
        test: TestInfo(testName: "relationships", columnName: "user_id", attachedNode: orders.uniqueID)),
    ]
    return ProjectGraph(projectName: "shop", sources: [users, orders], nodes: nodes)
  }

  static let live = LiveSchema(
    inspected: [SchemaRef(schema: "raw")],
    tables: [
      LiveTable(
        schema: SchemaRef(schema: "raw"), name: "raw_members",
        columns: [
          LiveColumn(name: "member_id", dataType: "integer", position: 1, isKey: true),
          LiveColumn(name: "street", dataType: "text", position: 2),
          LiveColumn(name: "city", dataType: "text", position: 3),
          LiveColumn(name: "Plan Code", dataType: "text", position: 4),
          LiveColumn(name: "signup_ts", dataType: "text", position: 5),
          LiveColumn(name: "referrer", dataType: "text", position: 6),
        ]),
      LiveTable(
        schema: SchemaRef(schema: "raw"), name: "raw_orders",
        columns: [LiveColumn(name: "user_id", dataType: "integer", position: 1)]),
    ])

  static func change(
    _ kind: ChangeKind, from: String?, to: ChangeTarget?, column: String? = nil, confidence: Double = 0.9,
    parent: String? = nil
  ) -> DriftChange {
    DriftChange(
      kind: kind, source: "app.raw_users", sourceID: sourceID, relation: "raw.raw_members", from: from,
      to: to,
      column: column, confidence: confidence, breaking: true, evidence: ["fixture"], parent: parent,
      blastRadius: BlastRadius(models: ["model.shop.stg_users"], tests: ["test.shop.accepted_values_plan"]))
  }

  static var report: DriftReport {
    let table = change(.tableRenamed, from: "raw_users", to: .one("raw_members"))
    var remap = change(
      .valuesRemapped, from: "plan", to: .one("Plan Code"), column: "Plan Code", confidence: 0.8)
    remap.mapping = [ValueMapping(old: "free", new: "FREE"), ValueMapping(old: "pro", new: nil)]
    remap.values = ["FREE", "PRO'S"]
    let changes = [
      table,
      change(.columnRenamed, from: "id", to: .one("member_id"), parent: table.id),
      change(.columnSplit, from: "full_address", to: .many(["street", "city"]), parent: table.id),
      change(.columnRenamed, from: "plan", to: .one("Plan Code"), parent: table.id),
      remap,
      change(.columnTypeChanged, from: "timestamp", to: .one("text"), column: "signup_ts", confidence: 1),
      change(.columnMissing, from: "legacy_flag", to: nil, confidence: 1),
    ]
    return DriftReport(
      project: "shop", warehouse: "memory", schemas: ["raw"], sourcesChecked: 2, changes: changes,
      blastRadius: BlastRadius(), nodes: [:])
  }

  static var files: [String: String] {
    ["models/src_app.yml": yml, "models/stg_users.sql": staging, "models/paying_users.sql": aliased]
  }

  static func answers(rejectMapping: Bool = false) -> Decisions {
    let ids = Dictionary(
      report.changes.map { ("\($0.kind.rawValue):\($0.from ?? "")", $0.id) }, uniquingKeysWith: { a, _ in a })
    return Decisions([
      ids["column_split:full_address"] ?? "": Decision(template: "{street} ({city})"),
      ids["values_remapped:plan"] ?? "": rejectMapping
        ? Decision(accept: false) : Decision(mapping: ["free": "FREE", "pro": "PRO'S"]),
      ids["column_missing:legacy_flag"] ?? "": Decision(accept: true),
    ])
  }

  static func rendered(_ draft: FixDraft) -> String {
    draft.files.map { "=== \($0.path) (\($0.status))\n\($0.content ?? "")\n" }.joined()
      + "=== questions\n"
      + draft.questions.map {
        "\($0.kind.rawValue) \($0.subject): \($0.status.rawValue) \($0.answer ?? "")\n"
      }.joined()
      + "=== notes\n" + draft.notes.map { $0 + "\n" }.joined()
  }

  @Test(arguments: [SQLDialect.postgres, .sqlite])
  func everyChangeKindDraftedAndPinned(dialect: SQLDialect) throws {
    let draft = try FixDrafter(
      project: Self.project, report: Self.report, live: Self.live, dialect: dialect, files: Self.files,
      decisions: Self.answers()
    ).draft()
    #expect(draft.openQuestions.isEmpty)
    #expect(
      draft.files.map(\.path) == [
        "models/paying_users.sql", "models/src_app.yml", "models/stg_users.sql",
        "tests/assert_schema_contract_raw_members.sql",
      ])
    try coreGolden.check(Self.rendered(draft), named: "fix-all-kinds.\(dialect.rawValue).txt")
    let yml = draft.files.first { $0.path == "models/src_app.yml" }?.content ?? ""
    // Outside the edited entry, the file is untouched: comments, the other table, the layout.
    #expect(yml.hasPrefix("version: 2\n\n# Replicated from the app. Keep in sync.\nsources:\n"))
    #expect(yml.contains("      # Orders: owned by checkout.\n      - name: raw_orders"))
    // The renamed table keeps its entry (every source() call keeps working), pointed at the new relation.
    #expect(yml.contains("to: source('app', 'raw_users')"))
    #expect(yml.contains("field: member_id"))
    #expect(yml.contains("      - name: raw_users\n"))
    #expect(yml.contains("        identifier: raw_members\n"))
    #expect(!yml.contains("name: raw_members"))
    let staging = draft.files.first { $0.path == "models/stg_users.sql" }?.content ?? ""
    #expect(staging.contains(") as raw_users\n),"), "an unaliased source gets the old name as alias")
    let aliased = draft.files.first { $0.path == "models/paying_users.sql" }?.content ?? ""
    #expect(aliased.contains(") as u -- all users"), "an existing alias is kept")
  }

  /// A table that stays where the yml says is not "now" anywhere else (jaffle_shop_duckdb's type change).
  @Test func aTableThatDidNotMoveIsNotSaidToBeElsewhere() throws {
    var live = Self.live
    live.tables[0].name = "raw_users"
    live.tables[0].columns = [
      LiveColumn(name: "id", dataType: "integer", position: 1, isKey: true),
      LiveColumn(name: "full_address", dataType: "text", position: 2),
      LiveColumn(name: "plan", dataType: "text", position: 3),
      LiveColumn(name: "signup_ts", dataType: "text", position: 4),
      LiveColumn(name: "legacy_flag", dataType: "boolean", position: 5),
    ]
    var change = Self.change(.columnTypeChanged, from: "timestamp", to: .one("text"), column: "signup_ts")
    change.relation = "raw.raw_users"
    let report = DriftReport(
      project: "shop", warehouse: "memory", schemas: ["raw"], sourcesChecked: 2, changes: [change],
      blastRadius: BlastRadius(), nodes: [:])
    let draft = try FixDrafter(
      project: Self.project, report: report, live: live, dialect: .postgres, files: Self.files
    ).draft()
    let staging = try #require(draft.files.first { $0.path == "models/stg_users.sql" })
    #expect(!staging.reason.contains("(now "), "\(staging.reason)")
    #expect(staging.reason.hasPrefix("reads app.raw_users through a mapping back"))
    #expect(staging.content?.contains("app.raw_users changed;") == true)
    #expect(staging.content?.contains("is now") == false)
  }

  /// A gone column with a position-and-type hint is asked as a rename (never filled with NULL unasked):
  /// accepted, it is mapped back from the hinted column; rejected, its readers are expected to fail.
  @Test func aHintedRenameIsAskedAndMappedWhenAccepted() throws {
    var report = Self.report
    let index = try #require(report.changes.firstIndex { $0.kind == .columnMissing })
    report.changes[index].possibleRename = "referrer"
    let id = report.changes[index].id
    let open = try FixDrafter(
      project: Self.project, report: report, live: Self.live, dialect: .postgres, files: Self.files
    ).draft()
    let question = try #require(open.questions.first { $0.changeID == id })
    #expect(question.kind == .confirmRename)
    #expect(question.status == .open)
    #expect(!open.questions.contains { $0.changeID == id && $0.kind == .fillMissing })
    var answers = Self.answers()
    answers = Decisions(answers.byChange.merging([id: Decision(accept: true)]) { _, new in new })
    let accepted = try FixDrafter(
      project: Self.project, report: report, live: Self.live, dialect: .postgres, files: Self.files,
      decisions: answers
    ).draft()
    let staging = accepted.files.first { $0.path == "models/stg_users.sql" }?.content ?? ""
    #expect(staging.contains("referrer as legacy_flag"), "\(staging)")
    answers = Decisions(answers.byChange.merging([id: Decision(accept: false)]) { _, new in new })
    let rejected = try FixDrafter(
      project: Self.project, report: report, live: Self.live, dialect: .postgres, files: Self.files,
      decisions: answers
    ).draft()
    #expect(
      rejected.expectedFailures.contains { $0.changeID == id && $0.reason.contains("legacy_flag is gone") })
  }

  /// A gone column the yml declares no type for is filled with a NULL of the type the baseline snapshot
  /// recorded (readers and unions see a typed column); a recorded type that is not a plain type name (it
  /// comes from the warehouse) is never written into SQL: the NULL stays untyped.
  @Test func anUndeclaredGoneColumnIsFilledWithTheBaselineType() throws {
    var project = Self.project
    let index = try #require(project.sources[Self.sourceID]?.columns.firstIndex { $0.name == "legacy_flag" })
    project.sources[Self.sourceID]?.columns[index].dataType = nil
    func staging(baselineType: String?) throws -> String {
      let baseline = baselineType.map { type in
        LiveSchema(
          inspected: [SchemaRef(schema: "raw")],
          tables: [
            LiveTable(
              schema: SchemaRef(schema: "RAW"), name: "Raw_Users",
              columns: [
                LiveColumn(name: "id", dataType: "integer", position: 1, isKey: true),
                LiveColumn(name: "Legacy_Flag", dataType: type, position: 5),
              ])
          ])
      }
      let draft = try FixDrafter(
        project: project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files,
        decisions: Self.answers(), baseline: baseline
      ).draft()
      return draft.files.first { $0.path == "models/stg_users.sql" }?.content ?? ""
    }
    #expect(try staging(baselineType: "boolean").contains("cast(null as boolean) as legacy_flag"))
    #expect(try staging(baselineType: "numeric(12,2)").contains("cast(null as numeric(12,2)) as legacy_flag"))
    let hostile = try staging(baselineType: "boolean); drop table raw.raw_users; --")
    #expect(hostile.contains("null as legacy_flag") && !hostile.contains("drop table"), "\(hostile)")
    #expect(try staging(baselineType: nil).contains(" null as legacy_flag"))
  }

  @Test func openQuestionsWithoutDecisions() throws {
    let draft = try FixDrafter(
      project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files
    ).draft()
    #expect(Set(draft.openQuestions.map(\.kind)) == [.splitTemplate, .valueMapping, .fillMissing])
    #expect(draft.expectedFailures.isEmpty, "an unanswered question is not a rejection")
  }

  @Test func rejectedMappingDraftsNoCaseAndKeepsTheObservedValues() throws {
    let draft = try FixDrafter(
      project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files,
      decisions: Self.answers(rejectMapping: true)
    ).draft()
    let staging = draft.files.first { $0.path == "models/stg_users.sql" }?.content ?? ""
    #expect(!staging.contains("case "))
    #expect(staging.contains("\"Plan Code\" as plan"))
    let yml = draft.files.first { $0.path == "models/src_app.yml" }?.content ?? ""
    // The declared values stay beside the values the data now holds.
    #expect(yml.contains("values: ['free', 'pro', \"FREE\", \"PRO'S\"]"))
  }

  @Test func lowConfidenceRenameIsAQuestionAndUnknownDecisionsAreErrors() throws {
    var report = Self.report
    report.changes[1].confidence = 0.5
    let draft = try FixDrafter(
      project: Self.project, report: report, live: Self.live, dialect: .postgres, files: Self.files,
      decisions: Self.answers()
    ).draft()
    #expect(draft.openQuestions.map(\.kind) == [.confirmRename])
    #expect(throws: InputError.self) {
      try FixDrafter(
        project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files,
        decisions: Decisions(["c0000000000": Decision(accept: true)])
      ).draft()
    }
    #expect(throws: InputError.self) {
      var answers = Self.answers()
      let split = Self.report.changes[2].id
      answers.byChange[split] = Decision(template: "{street} {zip}")
      return try FixDrafter(
        project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files,
        decisions: answers
      ).draft()
    }
  }

  @Test func splitWithoutDataGuessesNoSeparator() throws {
    // No snapshot: nothing shows how full_address was written, so no ", " (or any separator) is guessed.
    let draft = try FixDrafter(
      project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files
    ).draft()
    let question = try #require(draft.questions.first { $0.kind == .splitTemplate })
    #expect(question.proposal == "{street}?{city}")
    #expect(question.status == .open)
    #expect(question.prompt.contains("the template is unproven"))
    #expect(!question.prompt.contains("guess"))
    // Accepting a template whose separators are unknown is refused: the answer must be a template.
    let split = Self.report.changes[2].id
    #expect(throws: InputError.self) {
      try FixDrafter(
        project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files,
        decisions: Decisions([split: Decision(accept: true)])
      ).draft()
    }
    // … and so is the proposal sent back unchanged, question marks and all.
    #expect(throws: InputError.self) {
      try FixDrafter(
        project: Self.project, report: Self.report, live: Self.live, dialect: .postgres, files: Self.files,
        decisions: Decisions([split: Decision(template: "{street}?{city}")])
      ).draft()
    }
  }

  @Test func splitSeparatorsFromShapesAreProposedButStillAsked() throws {
    var report = Self.report
    report.changes[2].template = SplitTemplate.joined(["street", "city"], separator: ", ")
    let draft = try FixDrafter(
      project: Self.project, report: report, live: Self.live, dialect: .postgres, files: Self.files
    ).draft()
    let question = try #require(draft.questions.first { $0.kind == .splitTemplate })
    #expect(question.proposal == "{street}, {city}")
    #expect(question.status == .open, "shapes prove no row")
    #expect(question.prompt.contains("not proven per key"))
  }

  @Test func unifiedDiffShowsRemovalsBeforeAdditions() {
    let diff = UnifiedDiff.make(
      path: "a.sql", old: "1\n2\n3\n4\n5\n6\n7\n8\n", new: "1\n2\n3\nfour\n5\n6\n7\n8\n")
    #expect(diff == "--- a/a.sql\n+++ b/a.sql\n@@ -1,7 +1,7 @@\n 1\n 2\n 3\n-4\n+four\n 5\n 6\n 7\n")
    #expect(UnifiedDiff.make(path: "a", old: "x\n", new: "x\n") == "")
    #expect(
      UnifiedDiff.make(path: "n", old: nil, new: "a\n") == "--- /dev/null\n+++ b/n\n@@ -0,0 +1,1 @@\n+a\n")
  }

  @Test func splitTemplatesParseAndRender() throws {
    let template = try SplitTemplate.parse("{street}, {city} {{x}}", columns: ["street", "city"])
    #expect(template.columns == ["street", "city"])
    #expect(template.description == "{street}, {city} {{x}}")
    #expect(throws: InputError.self) { try SplitTemplate.parse("{street", columns: nil) }
    #expect(throws: InputError.self) { try SplitTemplate.parse("no columns", columns: nil) }
  }
}

/// Golden files of Core's tests live in Tests/DriftwatchCoreTests/Golden; `DRIFTWATCH_RECORD_GOLDEN=1` re-records.
let coreGolden = GoldenFiles(
  directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"))
