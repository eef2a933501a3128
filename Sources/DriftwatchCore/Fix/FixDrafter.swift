/// Drafts the backward-compatible fix for a check: every model that read a changed source reads the new
/// table through a mapping back to the old columns and values, the sources yml gains the new entry with its
/// tests, and a schema contract test guards the columns the mapping reads. Pure: files in, files out.
public struct FixDrafter: Sendable {
  public var project: ProjectGraph
  public var report: DriftReport
  public var live: LiveSchema
  public var dialect: SQLDialect
  /// Contents of the files the fix may edit (see `requiredFiles`), by path relative to the project root.
  public var files: [String: String]
  /// Where singular tests go (dbt_project.yml `test-paths`, first entry).
  public var testPath: String
  public var decisions: Decisions
  /// Inferences below this are questions, not answers.
  public var threshold: Double

  /// The default `threshold`: every command that drafts a fix uses it unless told otherwise (`fix --threshold`).
  public static let defaultThreshold = 0.8
  /// The project file, relative to the root.
  public static let projectFile = "dbt_project.yml"
  /// Contract tests are `<test-paths>/assert_schema_contract_<table>.sql`.
  public static let contractFilePrefix = "assert_schema_contract_"

  /// The baseline snapshot's schema, when the check had one: the type of a gone column the yml does not
  /// declare (its NULL fill is cast to it).
  public var baseline: LiveSchema?

  public init(
    project: ProjectGraph, report: DriftReport, live: LiveSchema, dialect: SQLDialect,
    files: [String: String],
    testPath: String = "tests", decisions: Decisions = Decisions(), threshold: Double = defaultThreshold,
    baseline: LiveSchema? = nil
  ) {
    self.baseline = baseline
    self.project = project
    self.report = report
    self.live = live
    self.dialect = dialect
    self.files = files
    self.testPath = testPath
    self.decisions = decisions
    self.threshold = threshold
  }

  /// The files a fix for `report` may read and edit: the changed sources' yml and their readers' SQL.
  public static func requiredFiles(project: ProjectGraph, report: DriftReport) -> [String] {
    var paths = Set<String>()
    // A renamed table's identifier may be set by a var in dbt_project.yml.
    if report.changes.contains(where: { $0.kind == .tableRenamed && $0.sourceID != nil }) {
      paths.insert(projectFile)
    }
    for sourceID in Set(report.changes.compactMap(\.sourceID)) {
      // A package's yml is never edited (dbt deps would undo it), nor is a root file at its relative path read.
      if let source = project.sources[sourceID], source.packageName == project.projectName,
        let path = source.filePath
      {
        paths.insert(path)
      }
      for node in readers(project: project, sourceID: sourceID) {
        if let path = node.filePath { paths.insert(path) }
      }
      for node in foreignTests(project: project, sourceID: sourceID) {
        if let path = node.filePath { paths.insert(path) }
      }
    }
    return paths.sorted()
  }

  /// Nodes of the root project whose own SQL calls the source (models, snapshots, singular tests, analyses).
  static func readers(project: ProjectGraph, sourceID: String) -> [GraphNode] {
    project.nodes.values.filter {
      $0.dependsOn.contains(sourceID) && $0.rawCode != nil
        && ($0.test == nil || $0.test?.testName == "singular")
        && $0.resourceType != .exposure && $0.packageName == project.projectName
    }.sorted { $0.uniqueID < $1.uniqueID }
  }

  /// Models and snapshots of installed packages that read the source: fix does not edit them.
  static func packageReaders(project: ProjectGraph, sourceID: String) -> [GraphNode] {
    project.nodes.values.filter {
      $0.dependsOn.contains(sourceID) && $0.rawCode != nil && $0.test == nil
        && ($0.resourceType == .model || $0.resourceType == .snapshot)
        && $0.packageName != project.projectName
    }.sorted { $0.uniqueID < $1.uniqueID }
  }

  /// Generic tests declared on other nodes that point at the source (relationships `to: source(…)`).
  static func foreignTests(project: ProjectGraph, sourceID: String) -> [GraphNode] {
    project.nodes.values.filter {
      $0.dependsOn.contains(sourceID) && $0.test != nil && $0.test?.testName != "singular"
        && $0.test?.attachedNode != sourceID
        && $0.packageName == project.projectName
    }.sorted { $0.uniqueID < $1.uniqueID }
  }

  public func draft() throws(InputError) -> FixDraft {
    try refuseUnknownDecisions(known: Set(report.changes.map(\.id)).union(manualRewriteIDs()))
    var state = State()
    var edits: [String: String] = [:]  // path → new content
    let bySource = Dictionary(
      grouping: report.changes.filter { $0.sourceID != nil },
      by: { (change: DriftChange) in change.sourceID ?? "" })
    for sourceID in bySource.keys.sorted() {
      guard let source = project.sources[sourceID], let changes = bySource[sourceID] else { continue }
      try draftSource(source, changes: changes, edits: &edits, state: &state)
    }
    // Defence in depth: every path is the project's own or made by SafeFileName; none may leave the project.
    for path in edits.keys.sorted() where !ProjectRelativePath.isContained(path) {
      throw InputError(
        "the fix would write \(TextEscape.oneLine(path)), which is not a path inside the project: nothing was drafted; check test-paths in dbt_project.yml"
      )
    }
    let drafted = edits.keys.sorted().compactMap { path -> DraftedFile? in
      let original = self.files[path]
      guard let content = edits[path], content != original else { return nil }
      return DraftedFile(path: path, original: original, content: content, reason: state.reasons[path] ?? "")
    }
    return FixDraft(
      project: project.projectName, dialect: dialect, files: drafted, questions: state.questions,
      expectedFailures: state.expectedFailures, notes: state.notes, changes: state.covered)
  }

  private func refuseUnknownDecisions(known: Set<String>) throws(InputError) {
    let unknown = decisions.byChange.keys.filter { !known.contains($0) }.sorted()
    if !unknown.isEmpty {
      throw InputError(
        "decisions name \(unknown.joined(separator: ", ")), which \(unknown.count == 1 ? "is" : "are") not a change of this check (run the check again and use the ids it shows)"
      )
    }
  }

  /// The ids of every question a reader that cannot be rewritten could raise (one per source and file).
  private func manualRewriteIDs() -> [String] {
    Set(report.changes.compactMap(\.sourceID)).flatMap { sourceID in
      (Self.readers(project: project, sourceID: sourceID).compactMap(\.filePath)
        + Self.packageReaders(project: project, sourceID: sourceID).map(Self.packagePath)).map {
          Self.manualRewriteID(sourceID: sourceID, path: $0)
        }
    }
  }

  /// A package's file, named with its package (its path is relative to the package's own root).
  static func packagePath(_ node: GraphNode) -> String {
    "\(node.packageName):\(node.filePath ?? node.uniqueID)"
  }

  static func manualRewriteID(sourceID: String, path: String) -> String {
    StableID.make(Question.Kind.rewriteByHand.rawValue, sourceID, path)
  }

  // MARK: One source

  struct State {
    var questions: [Question] = []
    var expectedFailures: [ExpectedFailure] = []
    var notes: [String] = []
    var reasons: [String: String] = [:]
    var covered: [String] = []
  }

  /// How one declared column is produced from the live table.
  struct ColumnPlan {
    var name: String
    var expression: String?
    var reads: [String]
  }

  /// What one changed source is drafted from: the live table it now is, the changes to fix, and how each
  /// declared column is produced from the live table.
  struct SourcePlan {
    var source: SourceTable
    var table: LiveTable
    var tableRename: DriftChange?
    var relevant: [DriftChange]
    var plans: [ColumnPlan] = []
    /// Declared column (lowercased) → the value mapping for its tests (`.some(nil)`: the mapping was rejected).
    var valueTests: [String: [(old: String, new: String)]?] = [:]
    /// Live columns the mapping does not use and that no declared column names: passed through unchanged.
    var passthrough: [LiveColumn] = []
    /// Live columns the mapping reads, in live order.
    var reads: [String] = []
    var changeIDs: [String] = []
    /// The name readers call the source by after the fix.
    var newSourceTable: String = ""
    /// Declared columns whose value mapping is still open: readers will need it once it is answered.
    var pendingColumns: [String] = []
    var mappingPending: Bool { !pendingColumns.isEmpty }
  }

  private func draftSource(
    _ source: SourceTable, changes: [DriftChange], edits: inout [String: String], state: inout State
  ) throws(InputError) {
    guard var plan = try resolveTable(source, changes: changes, state: &state) else { return }
    state.covered += plan.relevant.map(\.id)
    let sql = SQLDraft(dialect: dialect)
    try planColumns(&plan, sql: sql, state: &state)
    rewriteReaders(plan, sql: sql, edits: &edits, state: &state)
    editSourcesFile(plan, edits: &edits, state: &state)
    editProjectVars(plan, edits: &edits, state: &state)
    retargetForeignTests(plan, edits: &edits, state: &state)
    try draftContractTest(plan, sql: sql, edits: &edits, state: &state)
  }

  /// The live table a changed source now is, and the changes to fix; nil when nothing is drafted for it.
  private func resolveTable(_ source: SourceTable, changes: [DriftChange], state: inout State)
    throws(InputError) -> SourcePlan?
  {
    let fixable: Set<ChangeKind> = [
      .tableRenamed, .columnRenamed, .columnSplit, .columnMissing, .columnTypeChanged, .valuesRemapped,
    ]
    let relevant = changes.filter {
      fixable.contains($0.kind) && ($0.kind != .columnTypeChanged || $0.breaking)
    }
    if let missing = changes.first(where: { $0.kind == .tableMissing }) {
      state.notes.append(
        "\(source.displayName) is gone and nothing was found in its place (\(missing.id)): there is nothing to map it to; restore the table or remove the source"
      )
      return nil
    }
    guard !relevant.isEmpty else { return nil }
    let tableRename = changes.first { $0.kind == .tableRenamed }
    if let tableRename {
      let status = confirm(
        tableRename, subject: "\(source.displayName) → \(tableRename.to?.description ?? "")", &state)
      if status == .rejected {
        state.notes.append(
          "the rename of \(source.displayName) was rejected (\(tableRename.id)): nothing drafted for it")
        return nil
      }
    }
    let tableName = tableRename?.to?.names.first ?? source.identifier
    let relation = tableRename?.relation ?? "\(source.schemaRef).\(source.identifier)"
    guard
      let table = live.tables.first(where: { $0.qualifiedName == relation })
        ?? live.tables.first(where: {
          $0.schema.schema.lowercased() == source.schema.lowercased()
            && $0.name.lowercased() == tableName.lowercased()
        })
    else {
      state.notes.append("\(relation) is not in the live schema: nothing drafted for \(source.displayName)")
      return nil
    }
    try refuseJinja(in: table, source: source, changes: relevant)
    return SourcePlan(source: source, table: table, tableRename: tableRename, relevant: relevant)
  }

  /// Column by column, in declared order: how each declared column is produced from the live table, the
  /// questions that asks, and the live columns passed through or read.
  private func planColumns(_ plan: inout SourcePlan, sql: SQLDraft, state: inout State) throws(InputError) {
    let source = plan.source
    let table = plan.table
    let relevant = plan.relevant
    for column in Self.plannedColumns(source: source, relevant: relevant) {
      let lower = column.name.lowercased()
      let change = relevant.first {
        !$0.kind.isTableLevel && $0.kind != .valuesRemapped
          && ($0.kind == .columnTypeChanged
            ? $0.column?.lowercased() == lower : $0.from?.lowercased() == lower)
      }
      var columnPlan = ColumnPlan(name: column.name, expression: nil, reads: [])
      switch change?.kind {
      case .columnRenamed?:
        guard let change, let new = change.to?.names.first else { continue }
        let status = confirm(change, subject: "\(source.displayName).\(column.name) → \(new)", &state)
        if status == .rejected {
          expectFailures(change, reason: "\(column.name) is not mapped (rename rejected)", &state)
        } else {
          columnPlan.expression = sql.identifier(new)
          columnPlan.reads = [new]
        }
      case .columnSplit?:
        guard let change else { continue }
        let parts = change.to?.names ?? []
        if let template = try splitTemplate(change, column: column.name, parts: parts, source: source, &state)
        {
          columnPlan.expression = sql.template(template)
          columnPlan.reads = template.columns
        } else {
          expectFailures(change, reason: "\(column.name) is not rebuilt (split template rejected)", &state)
        }
      case .columnMissing? where change?.possibleRename != nil:
        // Position and type say a column stands in its place, the names and data do not: a human says.
        guard let change, let candidate = change.possibleRename else { continue }
        let status = askHintedRename(
          change, column: column.name, candidate: candidate, source: source, &state)
        if status == .rejected {
          expectFailures(change, reason: "\(column.name) is gone (\(candidate) is not it renamed)", &state)
        } else {
          columnPlan.expression = sql.identifier(candidate)
          columnPlan.reads = [candidate]
        }
      case .columnMissing?:
        guard let change else { continue }
        let status = askFill(change, column: column, source: source, &state)
        if status == .rejected {
          expectFailures(change, reason: "\(column.name) is gone and was not filled", &state)
        } else {
          // Typed as declared, else as the baseline snapshot recorded it (a plain type name only), so that
          // readers and unions see the column's type, not an untyped NULL.
          let type = column.dataType ?? baselineType(of: column.name, in: source).flatMap(Self.plainTypeName)
          columnPlan.expression = type.map { sql.cast("null", to: $0) } ?? "null"
        }
      case .columnTypeChanged?:
        guard let change, let liveName = change.column else { continue }
        // Back to the declared type; undeclared, to the type the baseline recorded, when it is a plain name.
        if let type = column.dataType ?? change.from.flatMap(Self.plainTypeName) {
          columnPlan.expression = sql.cast(sql.identifier(liveName), to: type)
        } else {
          columnPlan.expression = sql.identifier(liveName)
        }
        columnPlan.reads = [liveName]
      default:
        guard
          let liveColumn = table.columns.first(where: { $0.name == column.name })
            ?? table.columns.first(where: { $0.name.lowercased() == lower })
        else {
          state.notes.append(
            "\(table.qualifiedName) has no column \(column.name) and no change explains it: not mapped")
          continue
        }
        columnPlan.expression = sql.identifier(liveColumn.name)
        columnPlan.reads = [liveColumn.name]
      }
      if let remap = relevant.first(where: { $0.kind == .valuesRemapped && $0.from?.lowercased() == lower }),
        let expression = columnPlan.expression
      {
        let (status, pairs) = valueMapping(remap, column: column.name, source: source, &state)
        if status == .open { plan.pendingColumns.append(column.name) }
        if let pairs {
          columnPlan.expression = sql.remap(expression, newToOld: pairs.map { ($0.new, $0.old) })
          plan.valueTests[lower] = pairs
        } else if status == .rejected {
          plan.valueTests[lower] = .some(nil)
          for test in remap.blastRadius.tests
          where project.nodes[test]?.test?.testName == "accepted_values"
            && project.nodes[test]?.test?.attachedNode != source.uniqueID
          {
            state.expectedFailures.append(
              ExpectedFailure(
                test: test, changeID: remap.id,
                reason:
                  "\(column.name) keeps the new values (\((remap.values ?? []).joined(separator: ", "))): the value mapping was rejected"
              ))
          }
        }
      }
      plan.plans.append(columnPlan)
    }
    let used = Set(plan.plans.flatMap(\.reads).map { $0.lowercased() })
    let declared = Set(plan.plans.map { $0.name.lowercased() })
    plan.passthrough = table.columns.filter {
      !used.contains($0.name.lowercased()) && !declared.contains($0.name.lowercased())
    }
    plan.reads = table.columns.filter { used.contains($0.name.lowercased()) }.map(\.name)
    plan.changeIDs = ([plan.tableRename?.id].compactMap { $0 } + relevant.map(\.id)).uniqued()
    // A renamed table: the source entry keeps its name and points at the new relation, so every source()
    // call (in models, in macros) keeps working.
    plan.newSourceTable = source.name
  }

  /// The columns a mapping produces: the declared ones, then the undeclared ones a change names (a column
  /// the models read, renamed or gone, on a source that does not declare it).
  static func plannedColumns(source: SourceTable, relevant: [DriftChange]) -> [DeclaredColumn] {
    var columns = source.columns
    var names = Set(columns.map { $0.name.lowercased() })
    for change in relevant where !change.kind.isTableLevel {
      // A type change names the live column; every other change the old (declared or read) one.
      let name = change.kind == .columnTypeChanged ? change.column : change.from
      guard let name, names.insert(name.lowercased()).inserted else { continue }
      columns.append(DeclaredColumn(name: name))
    }
    return columns
  }

  /// A type name as the warehouse reported it, used in a drafted CAST only when it is plainly one (letters,
  /// digits, spaces, `_`, and a parenthesised precision): warehouse text is not written into SQL otherwise.
  /// The type the baseline snapshot recorded for `column` of `source`'s table (names compared as the
  /// drift engine compares them: exact, then ignoring case).
  func baselineType(of column: String, in source: SourceTable) -> String? {
    guard let baseline else { return nil }
    let lowerSchema = source.schema.lowercased()
    let lowerTable = source.identifier.lowercased()
    let tables = baseline.tables.filter {
      $0.schema.schema.lowercased() == lowerSchema && $0.name.lowercased() == lowerTable
    }
    guard let table = tables.first(where: { $0.name == source.identifier }) ?? tables.first else {
      return nil
    }
    let found =
      table.columns.first { $0.name == column }
      ?? table.columns.first { $0.name.lowercased() == column.lowercased() }
    return found.map(\.dataType).flatMap { $0.isEmpty ? nil : $0 }
  }

  static func plainTypeName(_ text: String) -> String? {
    let allowed = text.unicodeScalars.allSatisfy { scalar in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", " ", "_", "(", ")", ",": true
      default: false
      }
    }
    return allowed && !text.isEmpty && text.first?.isLetter == true ? text : nil
  }

  /// Each reader's `{{ source(…) }}` replaced by the mapping subquery, when a column needs mapping back.
  /// A reader whose call cannot be rewritten (macro-generated SQL, source() inside another call) is a
  /// question naming its file.
  private func rewriteReaders(
    _ plan: SourcePlan, sql: SQLDraft, edits: inout [String: String], state: inout State
  ) {
    let source = plan.source
    // Nothing to map back: the entry's identifier alone keeps every reader as it was.
    let needsMapping =
      plan.mappingPending || plan.plans.contains { $0.expression != sql.identifier($0.name) }
    guard needsMapping else { return }
    // Readers in installed packages: fix does not edit them (dbt deps would replace the edit), so each is a
    // question naming its file, never a silent skip.
    for node in Self.packageReaders(project: project, sourceID: source.uniqueID) {
      askManualRewrite(
        plan, node: node, path: Self.packagePath(node), plainSites: 0, inPackage: true, &state)
    }
    for node in Self.readers(project: project, sourceID: source.uniqueID) {
      guard let path = node.filePath, let text = edits[path] ?? files[path] else {
        state.notes.append("\(node.uniqueID): its file was not read, so it was not rewritten")
        continue
      }
      let (sites, unrewritable) = SourceCallLocator.sites(
        in: text, sourceName: source.sourceName, tableName: source.name)
      if sites.isEmpty, unrewritable == 0, Self.passesRowsThrough(node, of: plan) {
        // Its macro selects the source's rows as they are: the mapping goes around the whole model.
        edits[path] = wrappedReader(text, plan: plan, sql: sql)
        state.reasons[path] =
          "reads \(source.displayName) through a macro that selects its rows as they are: the rows are mapped back to its old columns around it (\(plan.changeIDs.joined(separator: ", ")))"
        continue
      }
      if unrewritable > 0 || sites.isEmpty {
        askManualRewrite(plan, node: node, path: path, plainSites: sites.count, &state)
      }
      guard !sites.isEmpty else { continue }
      var bytes = Array(text.utf8)
      for site in sites.reversed() {
        let replacement = mappingSubquery(plan, indent: site.indent, aliased: site.aliased, sql: sql)
        bytes.replaceSubrange(site.range, with: Array(replacement.utf8))
      }
      edits[path] = String(decoding: bytes, as: UTF8.self)
      state.reasons[path] =
        "reads \(source.displayName)\(Self.nowAt(plan)) through a mapping back to its old columns (\(plan.changeIDs.joined(separator: ", ")))"
    }
  }

  /// ` (now schema.table)` when the source's table moved; empty when it is where the yml says.
  static func nowAt(_ plan: SourcePlan) -> String {
    let source = plan.source
    let same =
      plan.table.name.lowercased() == source.identifier.lowercased()
      && plan.table.schema.schema.lowercased() == source.schema.lowercased()
    return same ? "" : " (now \(plan.table.qualifiedName))"
  }

  /// The sources yml: the changed table's entry regenerated from its own lines and the live columns; a
  /// renamed table's entry keeps its name and points at the new relation.
  private func editSourcesFile(_ plan: SourcePlan, edits: inout [String: String], state: inout State) {
    let source = plan.source
    guard source.packageName == project.projectName else {
      // Installed packages are dbt deps' to write: a var in dbt_project.yml repoints them (editProjectVars).
      if plan.tableRename != nil, source.identifierExpression.flatMap(Self.varReference) == nil {
        state.notes.append(
          "\(source.displayName) is declared in package \(source.packageName), whose files driftwatch does not edit: point it at \(plan.table.name) with a source override in your project (sources: - name: \(source.sourceName), overrides: \(source.packageName), tables: - name: \(source.name), identifier: \(plan.table.name))"
        )
      }
      return
    }
    let table = plan.table
    let tableRename = plan.tableRename
    guard let path = source.filePath, let text = edits[path] ?? files[path] else {
      state.notes.append("\(source.displayName): its yml file was not read, so it was not edited")
      return
    }
    // A source that declares no columns gets none: only a renamed table changes its entry.
    if source.columns.isEmpty && tableRename == nil { return }
    if let tableRename, decisions[tableRename.id]?.keepOldSource != nil {
      state.notes.append(
        "keep_old_source (\(tableRename.id)) is no longer needed: \(source.displayName) keeps its entry, pointed at \(table.name)"
      )
    }
    if let edited = editSources(
      text, source: source, table: table, tableRename: tableRename, relevant: plan.relevant,
      valueTests: plan.valueTests)
    {
      edits[path] = edited
      state.reasons[path] =
        tableRename == nil
        ? "\(source.displayName) declares the live columns, with their tests"
        : "\(source.displayName) points at \(table.name) and declares its columns, with their tests"
    } else {
      state.notes.append(
        "\(path): the entry of \(source.displayName) was not found as block-style YAML: point it at \(table.name) by hand (identifier: \(table.name))"
      )
    }
  }

  /// A renamed table whose identifier is `{{ var('name') }}`: the var, where dbt_project.yml sets it.
  private func editProjectVars(_ plan: SourcePlan, edits: inout [String: String], state: inout State) {
    guard plan.tableRename != nil else { return }
    let inPackage = plan.source.packageName != project.projectName
    let path = inPackage ? nil : plan.source.filePath
    let text = path.flatMap { edits[$0] ?? files[$0] }
    guard
      let reference = text.flatMap({ identifierVar(in: $0, source: plan.source) })
        ?? plan.source.identifierExpression.flatMap(Self.varReference)
    else { return }
    let newName = plan.table.name
    let scope = inPackage ? plan.source.packageName : project.projectName
    let projectText = edits[Self.projectFile] ?? files[Self.projectFile]
    if let projectText,
      let edited = Self.settingVar(reference.name, to: newName, in: projectText, project: scope)
        ?? (inPackage ? Self.addingVar(reference.name, to: newName, in: projectText, scope: scope) : nil)
    {
      edits[Self.projectFile] = edited
      let reason = "var \(reference.name) (the identifier of \(plan.source.displayName)) is \(newName)"
      state.reasons[Self.projectFile] = state.reasons[Self.projectFile].map { $0 + "; " + reason } ?? reason
    } else if reference.hasDefault, let path, let text {
      // Not set in dbt_project.yml: the default is what dbt uses, so the default is what changes.
      edits[path] = setIdentifierVarDefault(text, source: plan.source, name: reference.name, to: newName)
    } else {
      state.notes.append(
        "\(plan.source.displayName)'s identifier is var('\(reference.name)'), which dbt_project.yml does not set: set it to \(newName) where it is set"
      )
    }
  }

  /// Generic tests elsewhere that point at the table (`relationships` to it): `field:` follows a renamed
  /// column. (The source keeps its name, so `to:` stays as it is.)
  private func retargetForeignTests(_ plan: SourcePlan, edits: inout [String: String], state: inout State) {
    let source = plan.source
    var renamed: [String: String] = [:]
    var unmapped = Set<String>()
    for change in plan.relevant
    where change.kind == .columnRenamed || change.kind == .columnSplit
      || change.kind == .columnMissing
    {
      guard let old = change.from?.lowercased() else { continue }
      if change.kind == .columnRenamed, let new = change.to?.names.first {
        renamed[old] = new
      } else if change.kind == .columnMissing, let new = change.possibleRename,
        decisions[change.id]?.accept == true
      {
        renamed[old] = new
      } else {
        unmapped.insert(old)
      }
    }
    guard !renamed.isEmpty || !unmapped.isEmpty else { return }
    let paths = Set(Self.foreignTests(project: project, sourceID: source.uniqueID).compactMap(\.filePath))
    for path in paths.sorted() {
      guard let text = edits[path] ?? files[path] else {
        state.notes.append(
          "\(path): its file was not read, so its tests on \(source.displayName) were not retargeted")
        continue
      }
      let (retargeted, leftAlone) = retargetTests(
        text, source: source, renamed: renamed, unmapped: unmapped)
      if retargeted != text {
        edits[path] = retargeted
        let reason = "tests on \(source.displayName) name its renamed columns"
        state.reasons[path] = state.reasons[path].map { $0 + "; " + reason } ?? reason
      }
      state.notes += leftAlone.map { "\(path) \($0): retarget it by hand" }
    }
  }

  /// The schema contract test for the live table: regenerated when it is driftwatch's, else left alone.
  private func draftContractTest(
    _ plan: SourcePlan, sql: SQLDraft, edits: inout [String: String], state: inout State
  ) throws(InputError) {
    let table = plan.table
    guard let fileName = SafeFileName.component(table.name) else {
      throw InputError(
        "\(table.qualifiedName) has an empty table name, which cannot name its contract test file: nothing was drafted; rename the table"
      )
    }
    let contractPath = "\(testPath)/\(Self.contractFilePrefix)\(fileName).sql"
    let contract = contractTest(
      sourceName: plan.source.sourceName, tableName: plan.newSourceTable, identifier: table.name,
      schema: table.schema.schema, columns: plan.reads, sql: sql)
    if let existing = files[contractPath], !existing.hasPrefix(Self.contractMarker) {
      state.notes.append("\(contractPath) exists and is not driftwatch's: left as it is")
    } else {
      edits[contractPath] = contract
      state.reasons[contractPath] =
        "fails, naming the missing columns, when \(plan.source.sourceName).\(plan.newSourceTable) stops having a column the staging layer reads"
    }
  }

  // MARK: Hostile names

  /// dbt renders every yml value and every model as Jinja: a warehouse name or value holding a Jinja
  /// delimiter would run as code wherever it is written. Such a name is refused, not drafted.
  private func refuseJinja(in table: LiveTable, source: SourceTable, changes: [DriftChange])
    throws(InputError)
  {
    var named: [(what: String, text: String)] = [
      ("table name", table.name), ("schema name", table.schema.schema),
    ]
    for column in table.columns {
      named.append(("column name", column.name))
      named.append(("type of column \(column.name)", column.dataType))
    }
    for change in changes {
      for value in change.values ?? [] { named.append(("value", value)) }
      for pair in change.mapping ?? [] { named.append(("value", pair.old + "\u{0}" + (pair.new ?? ""))) }
      if let decision = decisions[change.id] {
        for (old, new) in decision.mapping ?? [:] {
          named.append(("value in the decisions", old + "\u{0}" + new))
        }
      }
    }
    for (what, text) in named {
      guard let delimiter = JinjaEscape.delimiter(in: text) else { continue }
      throw InputError(
        "\(TextEscape.oneLine(what)) \(TextEscape.oneLine(text.replacing("\u{0}", with: " → "))) (in \(TextEscape.oneLine(table.qualifiedName))) holds the jinja delimiter \(delimiter), which dbt would run as code: nothing was drafted for \(source.displayName); rename it in the warehouse or write this fix by hand"
      )
    }
  }

  // MARK: Questions

  /// A yes/no question's status from the decisions file: accepted, rejected, or open when unanswered.
  private func answered(_ id: String) -> Question.Status {
    switch decisions[id]?.accept {
    case true?: .accepted
    case false?: .rejected
    case nil: .open
    }
  }

  private func confirm(_ change: DriftChange, subject: String, _ state: inout State) -> Question.Status {
    guard change.confidence < threshold else { return .accepted }
    let status = answered(change.id)
    state.questions.append(
      Question(
        changeID: change.id, kind: .confirmRename, subject: subject,
        prompt:
          "is this a rename? confidence \(Decimal2.format(change.confidence)) is below \(Decimal2.format(threshold)) (\(change.evidence.first ?? ""))",
        proposal: "treat it as a rename", status: status, answer: status == .open ? nil : status.rawValue))
    return status
  }

  /// A gone column with a column in its place that only position and type suggest (`possible_rename`):
  /// map it back from that column (accept) or let readers fail (reject). Never filled with NULL silently.
  private func askHintedRename(
    _ change: DriftChange, column: String, candidate: String, source: SourceTable, _ state: inout State
  ) -> Question.Status {
    let status = answered(change.id)
    state.questions.append(
      Question(
        changeID: change.id, kind: .confirmRename,
        subject: "\(source.displayName).\(column) → \(candidate)",
        prompt:
          "\(column) is gone and \(candidate) stands in its place with its type, but neither the names nor data say it is the same column: is it \(column) renamed (accept), or is \(column) gone (reject: its readers fail)?",
        proposal: "treat it as a rename", status: status, answer: status == .open ? nil : status.rawValue))
    return status
  }

  /// A reader driftwatch cannot rewrite: a human maps its columns back (accept once done, or to write the
  /// rest anyway) or lets it fail (reject).
  private func askManualRewrite(
    _ plan: SourcePlan, node: GraphNode, path: String, plainSites: Int, inPackage: Bool = false,
    _ state: inout State
  ) {
    let id = Self.manualRewriteID(sourceID: plan.source.uniqueID, path: path)
    let status = answered(id)
    let how =
      inPackage
      ? "it is in the installed package \(node.packageName), which fix does not edit (dbt deps would replace the edit); override the model in this project"
      : plainSites > 0
        ? "some of its source('\(plan.source.sourceName)', '\(plan.source.name)') calls are inside another expression"
        : "it reads \(plan.source.displayName) without a plain {{ source(…) }} of its own (through a macro, or inside another expression)"
    let sql = SQLDraft(dialect: dialect)
    var mapped = plan.plans.compactMap { column -> String? in
      guard let expression = column.expression, expression != sql.identifier(column.name),
        !plan.pendingColumns.contains(column.name)
      else { return nil }
      return "\(column.name) ← \(expression.split(separator: "\n").joined(separator: " "))"
    }
    mapped += plan.pendingColumns.map { "\($0) ← its value mapping, once answered" }
    state.questions.append(
      Question(
        changeID: id, kind: .rewriteByHand, subject: path,
        prompt:
          "\(path) (\(node.uniqueID)) cannot be rewritten: \(how); map its columns back by hand (\(mapped.joined(separator: "; "))) and accept, or reject to let it fail",
        proposal: "rewrite it by hand", status: status, answer: status == .open ? nil : status.rawValue))
    if status == .rejected {
      let tests = plan.relevant.filter { !$0.kind.isTableLevel }.flatMap(\.blastRadius.tests).uniqued()
      state.expectedFailures += tests.map {
        ExpectedFailure(test: $0, changeID: id, reason: "\(path) was not rewritten (rejected)")
      }
    }
  }

  private func askFill(
    _ change: DriftChange, column: DeclaredColumn, source: SourceTable, _ state: inout State
  ) -> Question.Status {
    let status = answered(change.id)
    state.questions.append(
      Question(
        changeID: change.id, kind: .fillMissing, subject: "\(source.displayName).\(column.name)",
        prompt:
          "\(column.name) is gone with nothing in its place: give readers NULL in it (accept) or let them fail (reject)?",
        proposal: "null", status: status, answer: status == .open ? nil : status.rawValue))
    return status
  }

  /// The template to rebuild a split column, or nil when rejected. Proven templates need no human.
  private func splitTemplate(
    _ change: DriftChange, column: String, parts: [String], source: SourceTable, _ state: inout State
  ) throws(InputError) -> SplitTemplate? {
    let decision = decisions[change.id]
    // Without data nothing shows the separators: none is guessed.
    let proposal = change.template ?? SplitTemplate.unknownSeparators(parts)
    let proven = change.template.map { ($0.sampled ?? 0) > 0 && $0.matched == $0.sampled } ?? false
    var status: Question.Status
    var chosen: SplitTemplate?
    if let text = decision?.template {
      if proposal.hasUnknownSeparators, text == proposal.description {
        throw InputError(
          "decision \(change.id) (split of \(column)): the template still has the unknown separators of the proposal (?): write the real separator in place of each ?"
        )
      }
      do {
        chosen = try SplitTemplate.parse(text, columns: parts)
      } catch {
        throw InputError("decision \(change.id) (split of \(column)): \(error.message)")
      }
      status = .accepted
    } else if decision?.accept == false {
      status = .rejected
    } else if decision?.accept == true, proposal.hasUnknownSeparators {
      throw InputError(
        "decision \(change.id) (split of \(column)): the separators of \(proposal) are unknown, so there is nothing to accept; answer with template: \"\(SplitTemplate.joined(parts, separator: ", "))\" written as the data really is"
      )
    } else if decision?.accept == true || proven {
      chosen = proposal
      status = decision?.accept == true ? .accepted : .proven
    } else {
      status = .open
      chosen = proposal  // drafted as proposed, for review; --write refuses until answered
    }
    var prompt = "how is \(column) rebuilt from \(parts.joined(separator: ", "))?"
    if let measured = change.template, let sampled = measured.sampled, let matched = measured.matched {
      prompt += " (the proposal rebuilds \(matched) of \(sampled) sampled rows)"
    } else if change.template != nil {
      prompt += " (separators from the shapes of the old values in the snapshot, not proven per key)"
    } else {
      prompt +=
        " (no data: the template is unproven and its separators, shown as ?, are unknown; a snapshot with values would prove it)"
    }
    state.questions.append(
      Question(
        changeID: change.id, kind: .splitTemplate,
        subject: "\(source.displayName).\(column) → \(parts.joined(separator: ", "))",
        prompt: prompt, proposal: proposal.description, columns: parts, status: status,
        answer: status == .rejected ? "rejected" : (status == .open ? nil : chosen?.description)))
    return status == .rejected ? nil : chosen
  }

  /// Old → new pairs for a value remap, or nil when rejected or unanswered. Always a question: meaning.
  private func valueMapping(
    _ change: DriftChange, column: String, source: SourceTable, _ state: inout State
  ) -> (Question.Status, [(old: String, new: String)]?) {
    let decision = decisions[change.id]
    let proposed = (change.mapping ?? []).compactMap { pair in pair.new.map { (old: pair.old, new: $0) } }
    let complete = !(change.mapping ?? []).isEmpty && proposed.count == (change.mapping ?? []).count
    let oldValues = (change.mapping ?? []).map(\.old)
    var status: Question.Status = .open
    var pairs: [(old: String, new: String)]?
    if let mapping = decision?.mapping {
      pairs = oldValues.compactMap { old in mapping[old].map { (old: old, new: $0) } }
      for (old, new) in mapping.sorted(by: { $0.key < $1.key }) where !oldValues.contains(old) {
        pairs?.append((old: old, new: new))
      }
      status = .accepted
    } else if decision?.accept == false {
      status = .rejected
    } else if decision?.accept == true && complete {
      pairs = proposed
      status = .accepted
    }
    let render = { (pairs: [(old: String, new: String)]) in
      pairs.map { "\($0.old) → \($0.new)" }.joined(separator: ", ")
    }
    var prompt = "which new value of \(change.column ?? column) stands for each old value of \(column)?"
    let measured = (change.mapping ?? []).compactMap { pair -> String? in
      guard let support = pair.support, let total = pair.total else { return nil }
      return "\(pair.old) → \(pair.new ?? "?") \(support)/\(total)"
    }
    if !measured.isEmpty { prompt += " (measured: \(measured.joined(separator: ", ")))" }
    state.questions.append(
      Question(
        changeID: change.id, kind: .valueMapping,
        subject: "\(source.displayName).\(column) → \(change.column ?? "")",
        prompt: prompt, proposal: complete ? render(proposed) : nil, oldValues: oldValues,
        newValues: change.values,
        status: status,
        answer: status == .rejected ? "rejected" : pairs.map(render)))
    // An open question with a complete proposal is drafted as proposed, for review (--write refuses until
    // it is answered).
    if status == .open && complete { return (status, proposed) }
    return (status, status == .accepted ? pairs : nil)
  }

  private func expectFailures(_ change: DriftChange, reason: String, _ state: inout State) {
    for test in change.blastRadius.tests {
      state.expectedFailures.append(ExpectedFailure(test: test, changeID: change.id, reason: reason))
    }
  }

  // MARK: SQL

  static let contractMarker = "-- driftwatch schema contract"

  /// The select list mapping the live columns back to the old ones.
  private func mappingItems(_ plan: SourcePlan, sql: SQLDraft) -> [String] {
    var items: [String] = []
    for column in plan.plans {
      guard let expression = column.expression else { continue }
      let name = sql.identifier(column.name)
      items.append(expression == name ? expression : "\(expression) as \(name)")
    }
    return items + plan.passthrough.map { sql.identifier($0.name) }
  }

  private static func selectList(_ items: [String], indent: String) -> [String] {
    var lines: [String] = []
    for (index, item) in items.enumerated() {
      let itemLines = item.split(separator: "\n", omittingEmptySubsequences: false)
      for (lineIndex, line) in itemLines.enumerated() {
        let isLast = lineIndex == itemLines.count - 1
        lines.append("\(indent)\(line)\(isLast && index < items.count - 1 ? "," : "")")
      }
    }
    return lines
  }

  /// A reader whose SQL (compiled exactly, by dbt or against the live schema) is `select * from` the
  /// source's table, old or new: whatever produces that SQL — a union macro — yields the table's live
  /// columns, so mapping them back around the model's whole text keeps its columns and rows.
  static func passesRowsThrough(_ node: GraphNode, of plan: SourcePlan) -> Bool {
    guard let compiled = node.compiled, compiled.status == .compiled, let text = compiled.sql else {
      return false
    }
    let tokens = ColumnReferences.tokens(text).filter { $0 != .symbol(";") }
    guard tokens.count == 6 || tokens.count == 8, tokens[0] == .word("select", quoted: false),
      tokens[1] == .symbol("*"), tokens[2] == .word("from", quoted: false)
    else { return false }
    // The relation: schema.table or database.schema.table, nothing after it.
    var names: [String] = []
    for (offset, token) in tokens[3...].enumerated() {
      if offset % 2 == 1 {
        guard token == .symbol(".") else { return false }
      } else {
        guard case .word(let name, _) = token else { return false }
        names.append(name)
      }
    }
    let (schema, table) = (names[names.count - 2], names[names.count - 1])
    return [(plan.table.schema.schema, plan.table.name), (plan.source.schema, plan.source.identifier)]
      .contains { $0.0.lowercased() == schema && $0.1.lowercased() == table }
  }

  private func wrappedReader(_ text: String, plan: SourcePlan, sql: SQLDraft) -> String {
    var body = Substring(text)
    while let last = body.last, last.isWhitespace || last == ";" { body = body.dropLast() }
    var lines = [
      "-- "
        + sql.comment(
          "driftwatch (\(plan.changeIDs.joined(separator: ", "))): \(plan.source.displayName) is now \(plan.table.qualifiedName);"
        ),
      "-- the old columns and values are mapped back around the rows below so nothing downstream changes.",
      "select",
    ]
    lines += Self.selectList(mappingItems(plan, sql: sql), indent: "    ")
    lines += ["from (", String(body), ") as \(sql.identifier(plan.source.identifier))", ""]
    return lines.joined(separator: "\n")
  }

  private func mappingSubquery(_ plan: SourcePlan, indent: Int, aliased: Bool, sql: SQLDraft) -> String {
    let source = plan.source
    let pad = String(repeating: " ", count: indent)
    let inner = pad + "    "
    let items = mappingItems(plan, sql: sql)
    var lines = ["("]
    lines.append(
      "\(inner)-- "
        + sql.comment(
          "driftwatch (\(plan.changeIDs.joined(separator: ", "))): \(source.displayName) "
            + (Self.nowAt(plan).isEmpty ? "changed;" : "is now \(plan.table.qualifiedName);")
        ))
    lines.append("\(inner)-- the old columns and values are mapped back so nothing downstream changes.")
    lines.append("\(inner)select")
    lines += Self.selectList(items, indent: inner + "    ")
    lines.append(
      "\(inner)from {{ source(\(JinjaEscape.stringLiteral(source.sourceName)), \(JinjaEscape.stringLiteral(plan.newSourceTable))) }}"
    )
    lines.append(pad + ")" + (aliased ? "" : " as \(sql.identifier(source.identifier))"))
    return lines.joined(separator: "\n")
  }

  private func contractTest(
    sourceName: String, tableName: String, identifier: String, schema: String, columns: [String],
    sql: SQLDraft
  ) -> String {
    let relation =
      "source(\(JinjaEscape.stringLiteral(sourceName)), \(JinjaEscape.stringLiteral(tableName)))"
    // The relation's names go inside SQL string literals: quotes (and, where they escape, backslashes) in
    // them are escaped by Jinja filters, only when there are any (the usual output stays as it was).
    // `.identifier` renders the live table's name, which may differ from the source's.
    let needsFilter = (tableName + identifier + schema).contains { $0 == "'" || $0 == "\\" }
    let filter: String
    switch dialect {
    case .bigquery, .snowflake, .redshift:
      filter = needsFilter ? #" | replace('\\', '\\\\') | replace("'", "\\'")"# : ""
    default:
      filter = needsFilter ? #" | replace("'", "''")"# : ""
    }
    let identifier = "{{ \(relation).identifier\(filter) }}"
    let schemaName = "{{ \(relation).schema\(filter) }}"
    var lines = [
      "\(Self.contractMarker) for {{ \(relation) }}, drafted by driftwatch.",
      "-- Fails with one row per missing column when the table stops having a column the staging layer reads.",
      "with expected as (",
    ]
    for (index, column) in columns.enumerated() {
      lines.append(
        "    \(index == 0 ? "select" : "union all select") \(sql.literal(column.lowercased())) as column_name"
      )
    }
    lines.append("),")
    lines.append("")
    lines.append("actual as (")
    switch dialect {
    case .sqlite:
      lines.append("    select lower(name) as column_name")
      lines.append("    from pragma_table_info('\(identifier)', '\(schemaName)')")
    case .bigquery:
      lines.append("    select lower(column_name) as column_name")
      lines.append(
        "    from `{{ \(relation).database }}.{{ \(relation).schema }}`.INFORMATION_SCHEMA.COLUMNS")
      lines.append("    where lower(table_name) = lower('\(identifier)')")
    default:
      lines.append("    select lower(column_name) as column_name")
      lines.append("    from information_schema.columns")
      lines.append("    where lower(table_schema) = lower('\(schemaName)')")
      lines.append("      and lower(table_name) = lower('\(identifier)')")
    }
    lines.append(")")
    lines.append("")
    lines.append("select expected.column_name as missing_column")
    lines.append("from expected")
    lines.append("left join actual on actual.column_name = expected.column_name")
    lines.append("where actual.column_name is null")
    return lines.joined(separator: "\n") + "\n"
  }
}

extension Array where Element: Hashable {
  func uniqued() -> [Element] {
    var seen = Set<Element>()
    return filter { seen.insert($0).inserted }
  }
}
