import DriftwatchCore

/// Generic tests, first step: what each yml target declares, named, hashed and configured from the yml alone, on
/// every core (see `assemble`).
extension GraphAssembler {
  struct TestTarget {
    enum Kind {
      case model
      case node
      case source
    }

    var kind: Kind
    var name: String
    var tableName: String?
    var version: String?
    /// Tags every test on this target inherits (a source's and its table's).
    var inheritedTags: [String] = []
  }

  struct ColumnSpec {
    /// As dbt passes it to the test: quoted when `quote: true`.
    var name: String
    var plainName: String
    var tags: [String]
  }

  private static func columnSpec(_ column: YAMLNode) -> ColumnSpec? {
    guard let name = column["name"]?.string else { return nil }
    let quoted = column["quote"]?.bool == true ? "\"\(name)\"" : name
    let tags = (column["tags"]?.stringList ?? []) + (column["config"]?["tags"]?.stringList ?? [])
    return ColumnSpec(name: quoted, plainName: name, tags: tags)
  }

  private static func testEntries(_ node: YAMLNode) -> [YAMLNode] {
    (node["data_tests"] ?? node["tests"])?.items ?? []
  }

  /// The generic tests declared on one target: its columns' tests and its own.
  struct TestWork: Sendable {
    var target: TestTarget
    var columns: [YAMLNode]
    var tests: [YAMLNode]
    var entry: PropertiesIndex.Entry
  }

  static func testWork(_ properties: PropertiesIndex) -> [TestWork] {
    var work: [TestWork] = []
    for entry in properties.models {
      if let versions = entry.node["versions"]?.items, !versions.isEmpty {
        let baseColumns = entry.node["columns"]?.items ?? []
        for version in versions {
          let label = version["v"]?.python.pythonStr ?? ""
          var columns: [YAMLNode] = []
          var include: Set<String>?
          var exclude: Set<String> = []
          var own: [YAMLNode] = []
          for column in version["columns"]?.items ?? [] {
            if column["include"] != nil || column["exclude"] != nil {
              let includeNode = column["include"]
              if let all = includeNode?.string, all == "*" || all == "all" {
                include = nil
              } else if let list = includeNode?.items {
                include = Set(list.compactMap(\.string))
              }
              exclude = Set(column["exclude"]?.stringList ?? [])
            } else {
              own.append(column)
            }
          }
          for column in baseColumns {
            guard let name = column["name"]?.string else { continue }
            if (include?.contains(name) ?? true) && !exclude.contains(name) { columns.append(column) }
          }
          columns += own
          let versionTests = version["data_tests"] ?? version["tests"]
          let tests = versionTests != nil ? (versionTests?.items ?? []) : Self.testEntries(entry.node)
          let target = TestTarget(kind: .model, name: entry.name, version: label)
          work.append(TestWork(target: target, columns: columns, tests: tests, entry: entry))
        }
      } else {
        let target = TestTarget(kind: .model, name: entry.name)
        work.append(
          TestWork(
            target: target, columns: entry.node["columns"]?.items ?? [], tests: Self.testEntries(entry.node),
            entry: entry))
      }
    }
    for entry in properties.seeds + properties.snapshots {
      let target = TestTarget(kind: .node, name: entry.name)
      work.append(
        TestWork(
          target: target, columns: entry.node["columns"]?.items ?? [], tests: Self.testEntries(entry.node),
          entry: entry))
    }
    for entry in properties.sources {
      for table in entry.node["tables"]?.items ?? [] {
        guard let tableName = table["name"]?.string else { continue }
        let inherited = Self.tags(of: entry.node) + Self.tags(of: table)
        let target = TestTarget(
          kind: .source, name: entry.name, tableName: tableName, inheritedTags: inherited)
        work.append(
          TestWork(
            target: target, columns: table["columns"]?.items ?? [], tests: Self.testEntries(table),
            entry: entry))
      }
    }
    return work
  }

  /// A generic test named, hashed and configured from the yml alone; what it depends on is resolved after
  /// the models and sources are known.
  struct PreparedTest: Sendable {
    var uniqueID: String
    var name: String
    var tags: [String]
    var refs: [JinjaScan.Ref]
    var sourceCalls: [JinjaScan.Source]
    /// `namespace.name` of the test (`dbt_utils.expression_is_true`).
    var testName: String
    var columnName: String?
    var acceptedValues: [String]?
    var line: Int
    var column: Int
    var fqn: [String] = []
    /// `config: enabled` holding Jinja (`"{{ var('run_slow_tests', false) }}"`): rendered once the assembler's
    /// yml context is at hand (`resolveTests`), not decided here.
    var enabledText: String?
  }

  enum PreparedOutcome: Sendable {
    case test(PreparedTest)
    /// Disabled by its config or dbt_project.yml.
    case disabled
    /// Kept, not thrown: it counts only if its target exists and is enabled, and after the errors of the
    /// tests declared before it.
    case failed(DbtError)
  }

  struct PreparedWork: Sendable {
    var work: TestWork
    var hasTests: Bool
    var tests: [PreparedOutcome]
  }

  /// What naming a test needs of the packages, taken out once (a package's settings are large to copy).
  struct TestContext: Sendable {
    var names: [String]
    /// dbt's `require_generic_test_arguments_property` as it applies to each package's tests.
    var requireArgumentsProperty: [Bool]
    var isRoot: [Bool]
    var testConfigs: [ConfigTree]

    init(_ packages: [PackageContext]) {
      names = packages.map(\.name)
      isRoot = packages.map(\.isRoot)
      requireArgumentsProperty = packages.map { package in
        package.isRoot
          ? package.project.requireGenericTestArgumentsProperty
          : packages[0].project.requireGenericTestArgumentsProperty
      }
      testConfigs = packages.map(\.project.tests)
    }

    /// `+enabled`/`+tags` of dbt_project.yml for a test at `fqn` (the package's own, then the root's).
    func config(package: Int, fqn: [String]) -> ConfigTree.Resolved {
      ConfigTree.resolved(fqn, own: isRoot[package] ? nil : testConfigs[package], root: testConfigs[0])
    }
  }

  static func prepareTests(_ work: TestWork, context: TestContext) -> PreparedWork {
    let hasTests = !work.tests.isEmpty || work.columns.contains { !testEntries($0).isEmpty }
    var outcomes: [PreparedOutcome] = []
    guard hasTests else { return PreparedWork(work: work, hasTests: false, tests: []) }
    func add(_ test: YAMLNode, _ column: ColumnSpec?) {
      do {
        let prepared = try prepareTest(
          test, target: work.target, column: column, entry: work.entry, context: context)
        outcomes.append(prepared.map(PreparedOutcome.test) ?? .disabled)
      } catch {
        outcomes.append(.failed(error))
      }
    }
    for column in work.columns {
      let entries = testEntries(column)
      guard !entries.isEmpty, let spec = columnSpec(column) else { continue }
      for test in entries { add(test, spec) }
    }
    for test in work.tests { add(test, nil) }
    return PreparedWork(work: work, hasTests: true, tests: outcomes)
  }
}
