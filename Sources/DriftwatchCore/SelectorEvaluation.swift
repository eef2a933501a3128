/// What a selector picked out of a graph.
public struct Selection: Sendable, Hashable {
  /// The selector as written (`NodeSelector.description`), or a caption such as `impact of raw.orders`.
  public var selector: String?
  /// Unique ids of the selected sources and nodes.
  public var ids: Set<String> {
    didSet { vertices = nil }
  }
  /// The space-separated terms of `--select` that matched nothing, in the order written. dbt warns about
  /// these ("does not match any enabled nodes"); driftwatch's CLI treats them as an input error.
  public var unmatchedTerms: [String]
  /// The same, for `--exclude`.
  public var unmatchedExclusions: [String]
  /// The selected vertices of the graph that evaluated the selector (`ids` in another form), so that listing
  /// them needs no id hashed again; `nil` for a selection made or changed by hand. Not part of equality.
  var vertices: [Int]?

  public static func == (lhs: Selection, rhs: Selection) -> Bool {
    lhs.selector == rhs.selector && lhs.ids == rhs.ids && lhs.unmatchedTerms == rhs.unmatchedTerms
      && lhs.unmatchedExclusions == rhs.unmatchedExclusions
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(selector)
    hasher.combine(ids)
    hasher.combine(unmatchedTerms)
    hasher.combine(unmatchedExclusions)
  }

  public init(
    selector: String? = nil, ids: Set<String>, unmatchedTerms: [String] = [],
    unmatchedExclusions: [String] = []
  ) {
    self.selector = selector
    self.ids = ids
    self.unmatchedTerms = unmatchedTerms
    self.unmatchedExclusions = unmatchedExclusions
  }
}

extension LineageGraph {
  /// The ids `selector` selects, as `dbt ls --select … --exclude …` lists them: graph operators, then dbt's
  /// default eager indirect selection (a test joins when any of its parents is selected), per criterion; then
  /// intersections, the union, the exclusions; finally only `resourceTypes` are kept (dbt ls: all but analyses).
  public func select(
    _ selector: NodeSelector, resourceTypes: Set<ResourceType> = NodeSelector.listedResourceTypes
  ) -> Set<String> {
    evaluate(selector, resourceTypes: resourceTypes).ids
  }

  /// `select`, plus the terms that matched nothing.
  public func evaluate(
    _ selector: NodeSelector, resourceTypes: Set<ResourceType> = NodeSelector.listedResourceTypes
  ) -> Selection {
    let matcher = Matcher(graph: self)
    var selected = [Bool](repeating: false, count: count)
    var unmatched: [String] = []
    for term in selector.terms {
      guard let found = matcher.term(term) else {
        unmatched.append(term.text)
        continue
      }
      for vertex in 0..<count where found[vertex] { selected[vertex] = true }
    }
    var unmatchedExclusions: [String] = []
    for term in selector.exclusions {
      guard let found = matcher.term(term) else {
        unmatchedExclusions.append(term.text)
        continue
      }
      for vertex in 0..<count where found[vertex] { selected[vertex] = false }
    }
    var vertices: [Int] = []
    for vertex in 0..<count where selected[vertex] && resourceTypes.contains(types[vertex]) {
      vertices.append(vertex)
    }
    var ids = Set<String>(minimumCapacity: vertices.count)
    for vertex in vertices { ids.insert(self.ids[vertex]) }
    var selection = Selection(
      selector: selector.description, ids: ids, unmatchedTerms: unmatched,
      unmatchedExclusions: unmatchedExclusions)
    selection.vertices = vertices
    return selection
  }

  /// What a listing shows of one selected source or node.
  public struct ListedNode: Sendable, Hashable {
    public var id: String
    public var type: ResourceType
    /// dbt's `name` (a source's table name).
    public var name: String
    /// What to show: `source_name.table_name` for a source, the label of an exposure, else the name.
    public var display: String
    /// Every unique id the node depends on, sorted and unique (dbt's `depends_on.nodes`).
    public var dependsOn: [String]
  }

  /// The selected sources and nodes sorted by unique id, as listings show them. Reached through the vertices
  /// the selection carries when this graph evaluated it (no id is hashed again); ids the graph does not hold
  /// are left out.
  public func listing(_ selection: Selection) -> [ListedNode] {
    var vertices = selection.vertices ?? selection.ids.compactMap { index[$0] }
    vertices.sort { ids[$0] < ids[$1] }
    let sources = project.sources.values
    let nodes = project.nodes.values
    return vertices.map { vertex in
      switch slots[vertex] {
      case .source(let position):
        let source = sources[position]
        return ListedNode(
          id: ids[vertex], type: .source, name: source.name, display: source.displayName, dependsOn: [])
      case .node(let position):
        // Field by field: no copy of the whole node.
        let type = nodes[position].resourceType
        let name = nodes[position].name
        let display = type == .exposure ? (nodes[position].label ?? name) : name
        return ListedNode(
          id: ids[vertex], type: type, name: name, display: display,
          dependsOn: Self.sortedUnique(nodes[position].dependsOn))
      }
    }
  }

  static func sortedUnique(_ values: [String]) -> [String] {
    if values.count < 2 { return values }
    // Often already sorted and unique (dbt writes them so): no copy then.
    if zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) { return values }
    var out: [String] = []
    for value in values.sorted() where out.last != value { out.append(value) }
    return out
  }

  /// dbt's fully qualified name of a node, derived from its package, file path and name: the directories under
  /// the resource folder (`models/staging/x.sql` → `[pkg, staging, x]`); snapshots add their file's stem,
  /// analyses an `analysis` segment, sources end with `source_name, table_name`.
  public func fqn(of id: String) -> [String]? {
    if let source = project.sources[id] {
      return [source.packageName] + Self.folders(source.filePath) + [source.sourceName, source.name]
    }
    return project.nodes[id].map {
      Self.fqn(package: $0.packageName, type: $0.resourceType, path: $0.filePath, name: $0.name)
    }
  }

  static func fqn(package: String, type: ResourceType, path: String?, name: String) -> [String] {
    var fqn = [package]
    if type == .analysis { fqn.append("analysis") }
    fqn += folders(path)
    if let stem = snapshotStem(type: type, path: path) { fqn.append(stem) }
    fqn.append(name)
    return fqn
  }

  /// `fqn[1]`, without building the fqn: what a plain name is compared with once the package is set aside.
  static func secondFQNPart(type: ResourceType, path: String?, name: String) -> Substring {
    if type == .analysis { return "analysis" }
    if let path {
      // the second path component, when a third follows it (so it is a folder, not the file)
      var seen = 0
      var second: Substring = ""
      for part in Glob.Components(path) {
        seen += 1
        if seen == 2 { second = part }
        if seen == 3 { return second }
      }
    }
    return snapshotStem(type: type, path: path).map { Substring($0) } ?? Substring(name)
  }

  private static func snapshotStem(type: ResourceType, path: String?) -> String? {
    guard type == .snapshot, let path, path.hasSuffix(".sql") else { return nil }
    return Glob.stem(Glob.fileName(path))
  }

  /// The folders of `path` under its first component (the resource folder, e.g. `models`).
  private static func folders(_ path: String?) -> [String] {
    guard let path else { return [] }
    let parts = Glob.components(path)
    guard parts.count > 2 else { return [] }
    return Array(parts[1..<(parts.count - 1)])
  }
}

/// Evaluates criteria over a graph.
private struct Matcher {
  let graph: LineageGraph

  /// The intersection of the term's criteria, as a mask over vertices; `nil` when it is empty.
  func term(_ term: SelectorTerm) -> [Bool]? {
    var result: [Bool]?
    for criterion in term.criteria {
      guard let found = self.criterion(criterion) else { return nil }
      if var current = result {
        var any = false
        for vertex in 0..<graph.count {
          current[vertex] = current[vertex] && found[vertex]
          any = any || current[vertex]
        }
        guard any else { return nil }
        result = current
      } else {
        result = found
      }
    }
    return result
  }

  /// Matching vertices, their graph-operator relatives, then the tests on any of them (dbt's default eager
  /// indirect selection: a test joins when any of its parents is selected). `nil` when nothing matches.
  func criterion(_ criterion: SelectionCriterion) -> [Bool]? {
    let matches = predicate(criterion)
    var start: [Int] = []
    for vertex in 0..<graph.count where matches(vertex) { start.append(vertex) }
    guard !start.isEmpty else { return nil }
    var mask = [Bool](repeating: false, count: graph.count)
    var members = start
    func add(_ vertices: [Int]) {
      for vertex in vertices where !mask[vertex] {
        mask[vertex] = true
        members.append(vertex)
      }
    }
    for vertex in start { mask[vertex] = true }
    if criterion.childrensParents {
      let family = start + graph.walk(from: start, depth: nil, downstream: true)
      add(family)
      add(graph.walk(from: family, depth: nil, downstream: false))
    }
    if criterion.parents {
      add(graph.walk(from: start, depth: criterion.parentsDepth, downstream: false))
    }
    if criterion.children {
      add(graph.walk(from: start, depth: criterion.childrenDepth, downstream: true))
    }
    for vertex in members {
      for position in graph.childStart[vertex]..<graph.childStart[vertex + 1] {
        let child = Int(graph.childList[position])
        if graph.types[child] == .test || graph.types[child] == .unitTest { mask[child] = true }
      }
    }
    return mask
  }

  /// The criterion's test of one vertex, with its patterns compiled once. Reads fields in place (copying a
  /// whole `GraphNode` per vertex would cost more than the test).
  func predicate(_ criterion: SelectionCriterion) -> (Int) -> Bool {
    let graph = self.graph
    let nodes = graph.project.nodes
    let sources = graph.project.sources
    let value = criterion.value
    switch criterion.method {
    case .fqn:
      let name = QualifiedName(value)
      return { vertex in
        guard let position = graph.nodePosition(vertex) else { return false }
        let node = nodes[position].value
        return name.matches(
          name: node.name, package: node.packageName, type: node.resourceType, path: node.filePath)
      }
    case .source:
      let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
      let (package, name, table) =
        switch parts.count {
        case 1: (Glob.Pattern("*"), Glob.Pattern(parts[0]), Glob.Pattern("*"))
        case 2: (Glob.Pattern("*"), Glob.Pattern(parts[0]), Glob.Pattern(parts[1]))
        default: (Glob.Pattern(parts[0]), Glob.Pattern(parts[1]), Glob.Pattern(parts[2]))
        }
      return { vertex in
        guard let position = graph.sourcePosition(vertex) else { return false }
        let source = sources[position].value
        return package.matches(source.packageName) && name.matches(source.sourceName)
          && table.matches(source.name)
      }
    case .exposure: return named(.exposure, value)
    case .metric: return named(.metric, value)
    case .semanticModel: return named(.semanticModel, value)
    case .savedQuery: return named(.savedQuery, value)
    case .unitTest: return named(.unitTest, value)
    case .tag:
      let pattern = Glob.Pattern(value)
      return { vertex in
        if let position = graph.nodePosition(vertex) {
          return nodes[position].value.tags.contains(where: pattern.matches)
        }
        if let position = graph.sourcePosition(vertex) {
          return sources[position].value.tags.contains(where: pattern.matches)
        }
        return false
      }
    case .path:
      let pattern = Glob.PathPattern(value)
      return { vertex in graph.filePath(at: vertex).map(pattern.matches) ?? false }
    case .file:
      let pattern = Glob.Pattern(value)
      return { vertex in
        guard let path = graph.filePath(at: vertex) else { return false }
        let name = Glob.fileName(path)
        return pattern.matches(name) || pattern.matches(Glob.stem(name))
      }
    case .package:
      let pattern = Glob.Pattern(value == "this" ? graph.project.projectName : value)
      return { vertex in
        if let position = graph.nodePosition(vertex) {
          return pattern.matches(nodes[position].value.packageName)
        }
        if let position = graph.sourcePosition(vertex) {
          return pattern.matches(sources[position].value.packageName)
        }
        return false
      }
    case .resourceType:
      return { vertex in graph.types[vertex].rawValue == value }
    case .testName:
      let pattern = Glob.Pattern(value)
      return { vertex in
        guard let position = graph.nodePosition(vertex) else { return false }
        switch graph.types[vertex] {
        case .test:
          guard let name = nodes[position].value.test?.testName, name != "singular" else { return false }
          return pattern.matches(name)
        case .unitTest: return pattern.matches(nodes[position].value.name)
        default: return false
        }
      }
    case .testType:
      return { vertex in
        guard let position = graph.nodePosition(vertex) else { return false }
        switch (graph.types[vertex], value) {
        case (.test, "generic"), (.test, "schema"): return Self.isGeneric(nodes[position].value)
        case (.test, "singular"): return !Self.isGeneric(nodes[position].value)
        case (.test, "data"), (.unitTest, "unit"): return true
        default: return false
        }
      }
    }
  }

  /// `exposure:`, `metric:` and the like: `name` or `package.name`, wildcards allowed.
  func named(_ type: ResourceType, _ value: String) -> (Int) -> Bool {
    let graph = self.graph
    let nodes = graph.project.nodes
    let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let package = Glob.Pattern(parts.count == 1 ? "*" : parts[0])
    let name = Glob.Pattern(parts.count == 1 ? parts[0] : parts[1])
    return { vertex in
      guard graph.types[vertex] == type, let position = graph.nodePosition(vertex) else { return false }
      let node = nodes[position].value
      return package.matches(node.packageName) && name.matches(node.name)
    }
  }

  /// A generic test comes from a yml file (or names its generic test); a singular test is a .sql file.
  static func isGeneric(_ node: GraphNode) -> Bool {
    if let test = node.test { return test.testName != "singular" }
    guard let path = node.filePath?.lowercased() else { return false }
    return path.hasSuffix(".yml") || path.hasSuffix(".yaml")
  }
}

extension LineageGraph {
  func nodePosition(_ vertex: Int) -> Dictionary<String, GraphNode>.Index? {
    if case .node(let position) = slots[vertex] { return position }
    return nil
  }

  func sourcePosition(_ vertex: Int) -> Dictionary<String, SourceTable>.Index? {
    if case .source(let position) = slots[vertex] { return position }
    return nil
  }

  func filePath(at vertex: Int) -> String? {
    switch slots[vertex] {
    case .source(let position): project.sources[position].value.filePath
    case .node(let position): project.nodes[position].value.filePath
    }
  }
}

/// dbt's `is_selected_node`, tried on the fqn with and without its package: the leaf equals the selector, or
/// the selector's dotted parts equal the fqn's leading parts up to the first part with a wildcard, after which
/// fnmatch takes the rest (and a dotless wildcard may match the leaf alone).
struct QualifiedName {
  let selector: String
  /// No wildcard and no dot: only the leaf and the first fqn part (with or without the package) can match.
  let plain: Bool
  let parts: [String]
  /// Index of the first part with a wildcard, and the pattern for the parts from there on.
  let slurp: (index: Int, pattern: Glob.Pattern)?
  /// For a dotless wildcard selector: the pattern the leaf may match.
  let leaf: Glob.Pattern?

  init(_ selector: String) {
    self.selector = selector
    let parts = selector.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let wildcard = parts.firstIndex { $0.contains(where: { "*?[]".contains($0) }) }
    self.parts = parts
    plain = wildcard == nil && parts.count == 1
    slurp = wildcard.map { ($0, Glob.Pattern(parts[$0...].joined(separator: "."))) }
    leaf = wildcard != nil && parts.count == 1 ? Glob.Pattern(selector) : nil
  }

  func matches(name: String, package: String, type: ResourceType, path: String?) -> Bool {
    if name == selector { return true }
    if plain {
      return Self.firstDotted(package) == selector
        || Self.firstDotted(LineageGraph.secondFQNPart(type: type, path: path, name: name)) == selector
    }
    let fqn = LineageGraph.fqn(package: package, type: type, path: path, name: name)
    return matches(fqn[...]) || matches(fqn.dropFirst())
  }

  func matches(_ fqn: ArraySlice<String>) -> Bool {
    guard let last = fqn.last else { return false }
    if last == selector { return true }
    let flat =
      fqn.contains { $0.contains(".") }
      ? fqn.flatMap { $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }
      : Array(fqn)
    if flat.count < parts.count { return false }
    let fixed = slurp?.index ?? parts.count
    for position in 0..<fixed where flat[position] != parts[position] { return false }
    guard let slurp else { return true }
    if slurp.pattern.matches(flat[slurp.index...].joined(separator: ".")) { return true }
    return leaf?.matches(last) ?? false
  }

  /// The part of an fqn element before its first dot (dbt flattens dotted fqn parts).
  static func firstDotted(_ part: some StringProtocol) -> Substring {
    let part = Substring(part)
    return part.utf8.firstIndex(of: UInt8(ascii: ".")).map { part[..<$0] } ?? part
  }
}

/// Python's `fnmatch` and `pathlib` globbing, as dbt uses them (case-sensitive, as on Linux).
enum Glob {
  /// A compiled fnmatch pattern: `*` any run of characters, `?` one character, `[seq]` / `[!seq]` a class with
  /// `a-z` ranges; a `[` without its `]` is literal.
  struct Pattern: Sendable {
    private let tokens: [Token]
    /// No wildcard at all: plain equality.
    private let literal: String?

    init(_ pattern: String) {
      tokens = Self.compile(pattern)
      literal = pattern.contains(where: { "*?[".contains($0) }) ? nil : pattern
    }

    func matches(_ name: String) -> Bool {
      if let literal { return name == literal }
      let text = name.unicodeScalars
      var t = text.startIndex
      var p = 0
      var star: (token: Int, text: String.UnicodeScalarView.Index)?
      while t < text.endIndex {
        if p < tokens.count, case .star = tokens[p] {
          star = (p, t)
          p += 1
        } else if p < tokens.count, tokens[p].matches(text[t]) {
          p += 1
          t = text.index(after: t)
        } else if let backtrack = star {
          // let the last star take one more character, and retry from there
          let next = text.index(after: backtrack.text)
          star = (backtrack.token, next)
          p = backtrack.token + 1
          t = next
        } else {
          return false
        }
      }
      while p < tokens.count, case .star = tokens[p] { p += 1 }
      return p == tokens.count
    }

    private enum Token: Sendable {
      case star
      case any
      case literal(Unicode.Scalar)
      case set(ranges: [ClosedRange<UInt32>], negated: Bool)

      func matches(_ scalar: Unicode.Scalar) -> Bool {
        switch self {
        case .star, .any: true
        case .literal(let expected): scalar == expected
        case .set(let ranges, let negated): ranges.contains { $0.contains(scalar.value) } != negated
        }
      }
    }

    private static func compile(_ pattern: String) -> [Token] {
      let chars = Array(pattern.unicodeScalars)
      var tokens: [Token] = []
      var i = 0
      while i < chars.count {
        let c = chars[i]
        i += 1
        switch c {
        case "*":
          if case .star = tokens.last {} else { tokens.append(.star) }
        case "?": tokens.append(.any)
        case "[":
          // Like fnmatch.translate: `!` negates, a leading `]` is literal, no closing `]` means a literal `[`.
          var j = i
          if j < chars.count, chars[j] == "!" { j += 1 }
          if j < chars.count, chars[j] == "]" { j += 1 }
          while j < chars.count, chars[j] != "]" { j += 1 }
          guard j < chars.count else {
            tokens.append(.literal("["))
            continue
          }
          var body = Array(chars[i..<j])
          i = j + 1
          var negated = false
          if body.first == "!" {
            negated = true
            body.removeFirst()
          }
          var ranges: [ClosedRange<UInt32>] = []
          var k = 0
          while k < body.count {
            if k + 2 < body.count, body[k + 1] == "-" {
              if body[k].value <= body[k + 2].value { ranges.append(body[k].value...body[k + 2].value) }
              k += 3
            } else {
              ranges.append(body[k].value...body[k].value)
              k += 1
            }
          }
          tokens.append(.set(ranges: ranges, negated: negated))
        default: tokens.append(.literal(c))
        }
      }
      return tokens
    }
  }

  /// Path components, without empty and `.` parts.
  static func components(_ path: String) -> [String] {
    Array(Components(path).map(String.init))
  }

  /// The same, lazily, without allocating.
  struct Components: Sequence, IteratorProtocol {
    private var rest: Substring

    init(_ path: String) { rest = path[...] }

    mutating func next() -> Substring? {
      while !rest.isEmpty {
        let end = rest.utf8.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let part = rest[..<end]
        rest = end == rest.endIndex ? rest[end...] : rest[rest.utf8.index(after: end)...]
        if !part.isEmpty && part != "." { return part }
      }
      return nil
    }
  }

  static func fileName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }

  /// `Path.stem`: the name without its last extension (`.hidden` keeps its name).
  static func stem(_ name: String) -> String {
    guard let dot = name.lastIndex(of: "."), dot > name.startIndex else { return name }
    return String(name[..<dot])
  }

  /// dbt's `path:` — `Path(root).glob(pattern)` holds the file or one of its folders. Each pattern part is an
  /// fnmatch over one path component; `**` spans any number of components.
  struct PathPattern: Sendable {
    /// `nil` stands for `**`.
    private let parts: [Pattern?]

    init(_ pattern: String) {
      parts = Glob.components(pattern).map { $0 == "**" ? nil : Pattern($0) }
    }

    func matches(_ path: String) -> Bool {
      guard !parts.isEmpty else { return false }
      let file = Glob.components(path)
      // table[i][j]: the first i path components match the first j pattern parts
      let m = parts.count
      var table = [[Bool]](repeating: [Bool](repeating: false, count: m + 1), count: file.count + 1)
      table[0][0] = true
      for j in 1...m {
        for i in 0...file.count {
          if let part = parts[j - 1] {
            table[i][j] = i > 0 && table[i - 1][j - 1] && part.matches(file[i - 1])
          } else {
            table[i][j] = table[i][j - 1] || (i > 0 && table[i - 1][j])
          }
        }
      }
      // the file itself or any of its folders
      return (1...max(file.count, 1)).contains { $0 <= file.count && table[$0][m] }
    }
  }
}
