import DriftwatchCore

/// Generic tests, last step: what each prepared test depends on, resolved on every core, and the duplicate check.
extension GraphAssembler {
  /// One target's generic tests, with where each was declared (for the duplicate check's message).
  private struct BuiltTests: Sendable {
    var nodes: [GraphNode] = []
    var places: [(file: String, line: Int, column: Int)] = []
    /// Each node's `uniqueID.hashValue`, taken on the resolving thread: the duplicate check compares these,
    /// and the ids themselves only when two hashes match.
    var hashes: [Int] = []
    /// Tests whose definitions reach ref/source in ways the scan cannot read.
    var incomplete: [(String, Incompleteness)] = []
  }

  mutating func buildGenericTests(_ prepared: [PreparedWork]) throws {
    // The definitions' own refs and sources, once per test name and package (thousands of tests share few).
    for item in prepared where item.hasTests {
      let package = item.work.entry.file.package
      for case .test(let test) in item.tests where testBodies[package]?[test.testName] == nil {
        testBodies[package, default: [:]][test.testName] = macros.testBody(test.testName, package: package)
      }
    }
    // Resolving what each test depends on reads the lookups only: spread across cores. Results come back in
    // declaration order, so the first error and the duplicate check are deterministic.
    let assembler = self
    let results = FileReading.parallelMap(prepared) { item in
      Result { () throws(DbtError) -> BuiltTests in try assembler.resolveTests(item) }
    }
    StepTrace.mark("read: generic tests resolved")
    // No two tests may share an id. Their hashes are sorted, and ids compared only where hashes match; the
    // error names the first repeat in declaration order, as a front-to-back check would.
    var keyed: [(hash: Int, batch: Int32, index: Int32)] = []
    keyed.reserveCapacity(prepared.count * 4)
    var built: [BuiltTests] = []
    built.reserveCapacity(results.count)
    // A test that cannot be resolved ends the reading there; repeats before it are reported first, as a
    // front-to-back check would.
    var failure: DbtError?
    for result in results {
      if case .failure(let error) = result {
        failure = error
        break
      }
      guard case .success(let tests) = result, !tests.nodes.isEmpty else { continue }
      for (id, reason) in tests.incomplete { incomplete[id, default: []].append(reason) }
      for (index, hash) in tests.hashes.enumerated() {
        keyed.append((hash, Int32(built.count), Int32(index)))
      }
      built.append(tests)
    }
    keyed.sort { ($0.hash, $0.batch, $0.index) < ($1.hash, $1.batch, $1.index) }
    var firstRepeat: (batch: Int32, index: Int32)?
    var start = 0
    while start < keyed.count {
      var end = start + 1
      while end < keyed.count, keyed[end].hash == keyed[start].hash { end += 1 }
      // Same hash: a repeat is a later entry whose id equals an earlier one's.
      if end - start > 1 {
        for later in (start + 1)..<end {
          let id = built[Int(keyed[later].batch)].nodes[Int(keyed[later].index)].uniqueID
          let isRepeat = (start..<later).contains { earlier in
            built[Int(keyed[earlier].batch)].nodes[Int(keyed[earlier].index)].uniqueID == id
          }
          let position = (keyed[later].batch, keyed[later].index)
          if isRepeat, firstRepeat.map({ position < $0 }) ?? true { firstRepeat = position }
        }
      }
      start = end
    }
    if let firstRepeat {
      let tests = built[Int(firstRepeat.batch)]
      let place = tests.places[Int(firstRepeat.index)]
      throw DbtError(
        "two data tests are both named \(tests.nodes[Int(firstRepeat.index)].name) (same test, same target, same "
          + "arguments); remove one or give one a `name:`",
        file: place.file, line: place.line, column: place.column)
    }
    if let failure { throw failure }
    testBatches = built.map(\.nodes)
  }

  private func resolveTests(_ item: PreparedWork) throws(DbtError) -> BuiltTests {
    guard item.hasTests else { return BuiltTests() }
    let (target, entry) = (item.work.target, item.work.entry)
    // What the tests are attached to.
    let attached: Resolution
    switch target.kind {
    case .source:
      attached = resolveSource(
        sourceName: target.name, tableName: target.tableName ?? "", from: entry.file.package)
    case .model, .node:
      attached = resolveRef(
        name: target.name, package: nil, version: target.version, from: entry.file.package)
    }
    let attachedID: String
    switch attached {
    case .found(let id): attachedID = id
    case .disabled: return BuiltTests()
    case .missing:
      let kind = target.kind == .source ? "source table" : "model, seed or snapshot"
      let name = target.kind == .source ? "\(target.name).\(target.tableName ?? "")" : target.name
      throw DbtError(
        "tests are declared on \(name)\(target.version.map { " version \($0)" } ?? ""), but there is no "
          + "enabled \(kind) of that name; fix the name in the yml or add the \(kind)",
        file: entry.file.displayPath, line: entry.node.mark.line, column: entry.node.mark.column)
    }
    let file = entry.file
    let packageName = packages[file.package].name
    var built = BuiltTests()
    for outcome in item.tests {
      let test: PreparedTest
      switch outcome {
      case .failed(let error): throw error
      case .disabled: continue
      case .test(let prepared): test = prepared
      }
      // A Jinja `enabled`, rendered as dbt renders yml; one driftwatch cannot evaluate keeps the test, marked.
      var enabledUnknown: Incompleteness?
      if let text = test.enabledText {
        switch try yamlValues.renderBool(
          text, scope: .properties(package: file.package), file: file.displayPath, line: test.line,
          key: "enabled")
        {
        case .success(false): continue
        case .success(true): break
        case .failure(let unknown):
          enabledUnknown = Incompleteness(
            kind: .dynamicConfig, effects: [.config], file: file.displayPath, line: test.line,
            construct: "enabled: \(text)", detail: unknown.detail)
        }
      }
      // Dependencies: the attached node, and every ref()/source() in the arguments.
      guard
        var dependsOn = try dependencies(
          refs: test.refs, sourceCalls: test.sourceCalls, from: file.package, file: file.displayPath,
          what: "test \(test.name)", dropIfDisabled: true)
      else { continue }
      // dbt renders the test's definition too: its own refs and sources are parents as well.
      switch testBodies[file.package]?[test.testName] ?? .none {
      case .none: break
      case .calls(let refs, let sources):
        guard
          let body = try dependencies(
            refs: refs, sourceCalls: sources, from: file.package, file: file.displayPath,
            what: "test \(test.name)", dropIfDisabled: true)
        else { continue }
        for id in body where !dependsOn.contains(id) { dependsOn.append(id) }
      case .incomplete(let reason): built.incomplete.append((test.uniqueID, reason))
      }
      dependsOn.removeAll { $0 == attachedID }
      dependsOn.append(attachedID)
      let node = GraphNode(
        uniqueID: test.uniqueID, resourceType: .test, name: test.name, packageName: packageName,
        dependsOn: dependsOn, filePath: file.originalPath, tags: test.tags,
        test: TestInfo(
          testName: test.testName, columnName: test.columnName, attachedNode: attachedID,
          acceptedValues: test.acceptedValues), fqn: test.fqn)
      if let enabledUnknown { built.incomplete.append((test.uniqueID, enabledUnknown)) }
      built.hashes.append(node.uniqueID.hashValue)
      built.nodes.append(node)
      built.places.append((file.displayPath, test.line, test.column))
    }
    return built
  }
}
