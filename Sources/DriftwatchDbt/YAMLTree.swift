// libyaml through Yams' internal C target, not Yams' public `Parser`/`Node`: that API throws
// `duplicatedKeysInMapping` on any key repeated in one mapping, with no option to keep going, while dbt ≥ 1.10
// reads project and property files with repeats (the last value wins, in the first key's place, with a warning:
// `loadAcceptingDuplicates`), so those files cannot be read through it at all. It would also build a Yams `Node`
// per value (a tag and resolver each, every mapping's keys hashed for that check) before this tree is built,
// where the event stream folds straight into it. Positions are not the obstacle: `Node.mark` has them.
import CYaml

/// A YAML document as plain Sendable values, with line and column marks, and PyYAML's reading of plain
/// scalars (dbt loads YAML with PyYAML, YAML 1.1 rules: `yes` is a boolean, `012` is octal).
struct YAMLMark: Sendable, Hashable {
  // 32-bit: a large project's yml holds millions of marks (files beyond 2^31 lines are not yml).
  private var storedLine: Int32
  private var storedColumn: Int32

  init(line: Int, column: Int) {
    storedLine = Int32(clamping: line)
    storedColumn = Int32(clamping: column)
  }

  var line: Int {
    get { Int(storedLine) }
    set { storedLine = Int32(clamping: newValue) }
  }

  var column: Int {
    get { Int(storedColumn) }
    set { storedColumn = Int32(clamping: newValue) }
  }
}

struct YAMLScalar: Sendable, Hashable {
  var text: String
  /// Unquoted: subject to implicit typing (null, bool, int, float).
  var plain: Bool
  var mark: YAMLMark
}

struct YAMLPair: Sendable, Equatable {
  var key: String
  var keyMark: YAMLMark
  var value: YAMLNode
}

/// Not `indirect`: collections already hold their children in arrays, so a scalar is stored inline in its
/// parent's array instead of in a box of its own (one allocation fewer per scalar; a 20,000-model project's yml
/// has about a million of them).
enum YAMLNode: Sendable, Equatable {
  case scalar(YAMLScalar)
  case sequence([YAMLNode], YAMLMark)
  case mapping([YAMLPair], YAMLMark)

  var mark: YAMLMark {
    switch self {
    case .scalar(let scalar): return scalar.mark
    case .sequence(_, let mark), .mapping(_, let mark): return mark
    }
  }

  /// The value for `key` in a mapping (the last one, if repeated after a merge).
  subscript(key: String) -> YAMLNode? {
    guard case .mapping(let pairs, _) = self else { return nil }
    return pairs.last(where: { $0.key == key })?.value
  }

  var pairs: [YAMLPair]? {
    if case .mapping(let pairs, _) = self { return pairs }
    return nil
  }

  var items: [YAMLNode]? {
    if case .sequence(let items, _) = self { return items }
    return nil
  }

  var isNull: Bool {
    if case .scalar(let scalar) = self { return scalar.plain && PyYAML.isNull(scalar.text) }
    return false
  }

  /// A scalar's text, `nil` for null and for collections.
  var string: String? {
    guard case .scalar(let scalar) = self, !isNull else { return nil }
    return scalar.text
  }

  /// A YAML 1.1 boolean (`true`, `False`, `yes`, `off`, …) or the strings `"true"`/`"false"`.
  var bool: Bool? {
    guard case .scalar(let scalar) = self else { return nil }
    if scalar.plain, let value = PyYAML.bool(scalar.text) { return value }
    switch scalar.text.lowercased() {
    case "true": return true
    case "false": return false
    default: return nil
    }
  }

  /// A string or a list of strings (dbt accepts both for `tags`).
  var stringList: [String] {
    if let items { return items.compactMap(\.string) }
    if let string { return [string] }
    return []
  }

  /// The value as Python would hold it after `yaml.safe_load`.
  var python: PyValue {
    switch self {
    case .scalar(let scalar): return scalar.plain ? PyYAML.resolve(scalar.text) : .str(scalar.text)
    case .sequence(let items, _): return .list(items.map(\.python))
    case .mapping(let pairs, _):
      return .dict(pairs.map { PyPair(key: PyYAML.resolveKey($0.key), value: $0.value.python) })
    }
  }
}

enum YAMLLoader {
  /// Parses one YAML document. An empty document gives `nil`. Errors name `path`, line and column.
  ///
  /// Builds the tree straight from libyaml's events (the C parser Yams wraps): no intermediate Yams `Node`
  /// tree, no hashing of every mapping's keys. Same reading as Yams' `Parser(…).singleRoot()` with the basic
  /// resolver: aliases resolve to their anchored node, a repeated key in one mapping is an error, a second
  /// document is an error.
  static func load(_ text: String, path: String) throws -> YAMLNode? {
    var text = text
    return try text.withUTF8 { bytes in
      // dbt's usual YAML is read by the fast reader; the rest (and every error) by libyaml.
      if case .document(let root) = YAMLBlockReader.read(bytes) { return root }
      return try libyaml(bytes, path: path)
    }
  }

  /// A key repeated in one mapping, read as dbt reads it: the last value wins, with a warning.
  struct DuplicateKey: Sendable, Hashable {
    var key: String
    var line: Int
  }

  /// `load`, as dbt ≥ 1.10 loads project and property files: a repeated key in one mapping is not an error
  /// (PyYAML keeps the last value, in the first one's place) but a warning, returned in `duplicates`.
  static func loadAcceptingDuplicates(_ text: String, path: String) throws -> (YAMLNode?, [DuplicateKey]) {
    var text = text
    return try text.withUTF8 { bytes in
      if case .document(let root) = YAMLBlockReader.read(bytes) { return (root, []) }
      var builder = EventTreeBuilder(path: path, acceptDuplicates: true)
      let root = try builder.load(bytes)
      return (root, builder.duplicates)
    }
  }

  /// The document read by libyaml alone (the reference the fast reader is tested against).
  static func libyaml(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws -> YAMLNode? {
    var builder = EventTreeBuilder(path: path)
    return try builder.load(bytes)
  }

  static func duplicateKeys(_ duplicates: [String], path: String, mark: YAMLMark) -> DbtError {
    DbtError(
      "invalid yaml: duplicate key \(duplicates.map { "`\($0)`" }.joined(separator: ", ")) in one mapping; "
        + "keep one of them",
      file: path, line: mark.line, column: mark.column)
  }

  /// A document nested deeper than `NestingLimit.documents`, `mark` at the collection one level too deep.
  static func tooDeep(path: String, mark: YAMLMark) -> DbtError {
    DbtError.tooDeep(
      "invalid yaml: the yaml", limit: NestingLimit.documents, file: path, line: mark.line,
      column: mark.column)
  }

  static func unreadable(_ problem: String, path: String) -> DbtError {
    DbtError("unreadable yaml: \(problem); save the file as utf-8", file: path)
  }

  static func invalid(
    _ problem: String, context: (text: String, mark: YAMLMark)?, mark: YAMLMark, path: String
  )
    -> DbtError
  {
    var detail = problem
    if let context {
      detail += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
    }
    return DbtError(
      "invalid yaml: \(detail); fix the yaml and run again", file: path, line: mark.line, column: mark.column)
  }
}

/// libyaml's event stream folded into a `YAMLNode` tree, one event at a time.
private struct EventTreeBuilder: ~Copyable {
  let path: String
  private var parser = yaml_parser_t()
  private var event = yaml_event_t()
  private var anchors: [String: YAMLNode] = [:]
  /// Collections open around the current event; `node()` recurses once per level, up to
  /// `NestingLimit.documents`.
  private var depth = 0
  /// Repeated keys are kept (the last value wins) and listed in `duplicates` instead of failing.
  private let acceptDuplicates: Bool
  private(set) var duplicates: [YAMLLoader.DuplicateKey] = []

  init(path: String, acceptDuplicates: Bool = false) {
    self.path = path
    self.acceptDuplicates = acceptDuplicates
  }

  /// The single document in `bytes` (UTF-8), or `nil` when the stream holds none.
  mutating func load(_ bytes: UnsafeBufferPointer<UInt8>) throws -> YAMLNode? {
    guard yaml_parser_initialize(&parser) == 1 else {
      throw DbtError("out of memory reading yaml", file: path)
    }
    defer { yaml_parser_delete(&parser) }
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
    yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
    try next()  // stream start
    try next()
    guard event.type != YAML_STREAM_END_EVENT else { return nil }
    // Document start: the root node follows.
    try next()
    let root = try node()
    try next()  // document end
    try next()
    if event.type != YAML_STREAM_END_EVENT {
      throw YAMLLoader.invalid(
        "but found another document",
        context: ("expected a single document in the stream", YAMLMark(line: 1, column: 1)),
        mark: startMark, path: path)
    }
    return root
  }

  deinit {
    // The last event read (a bitwise copy owns the same buffers).
    var last = event
    yaml_event_delete(&last)
  }

  private var startMark: YAMLMark {
    YAMLMark(line: event.start_mark.line + 1, column: event.start_mark.column + 1)
  }

  /// Replaces the current event with the next one.
  private mutating func next() throws {
    yaml_event_delete(&event)
    guard yaml_parser_parse(&parser, &event) == 1 else { throw parserError() }
  }

  private func parserError() -> DbtError {
    func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
    let problem = text(parser.problem)
    let mark = YAMLMark(line: parser.problem_mark.line + 1, column: parser.problem_mark.column + 1)
    switch parser.error {
    case YAML_MEMORY_ERROR:
      return DbtError("out of memory reading yaml", file: path)
    case YAML_READER_ERROR:
      return YAMLLoader.unreadable(problem, path: path)
    default:
      if problem.hasPrefix("Maximum nesting level") {
        // libyaml's own limit (1,000 levels), should it come first.
        return YAMLLoader.tooDeep(path: path, mark: mark)
      }
      let context = parser.context.map { pointer in
        (
          String(cString: pointer),
          YAMLMark(line: parser.context_mark.line + 1, column: parser.context_mark.column + 1)
        )
      }
      return YAMLLoader.invalid(problem, context: context, mark: mark, path: path)
    }
  }

  private static func string(_ pointer: UnsafeMutablePointer<UInt8>?, length: Int) -> String {
    guard let pointer else { return "" }
    return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
  }

  private static func anchor(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
    pointer.map { String(cString: UnsafePointer($0)) }
  }

  /// The node that starts at the current event; on return the current event is its last one.
  private mutating func node() throws -> YAMLNode {
    let mark = startMark
    switch event.type {
    case YAML_SCALAR_EVENT:
      let scalar = event.data.scalar
      let style = scalar.style
      let node = YAMLNode.scalar(
        YAMLScalar(
          text: Self.string(scalar.value, length: scalar.length),
          plain: style == YAML_PLAIN_SCALAR_STYLE || style == YAML_ANY_SCALAR_STYLE, mark: mark))
      if let name = Self.anchor(scalar.anchor) { anchors[name] = node }
      return node
    case YAML_ALIAS_EVENT:
      guard let name = Self.anchor(event.data.alias.anchor), let node = anchors[name] else {
        throw YAMLLoader.invalid("found undefined alias", context: nil, mark: mark, path: path)
      }
      return node
    case YAML_SEQUENCE_START_EVENT:
      try enter(mark)
      defer { depth -= 1 }
      let anchor = Self.anchor(event.data.sequence_start.anchor)
      var items: [YAMLNode] = []
      try next()
      while event.type != YAML_SEQUENCE_END_EVENT {
        items.append(try node())
        try next()
      }
      let node = YAMLNode.sequence(items, mark)
      if let anchor { anchors[anchor] = node }
      return node
    case YAML_MAPPING_START_EVENT:
      try enter(mark)
      defer { depth -= 1 }
      let anchor = Self.anchor(event.data.mapping_start.anchor)
      var explicit: [YAMLPair] = []
      var merged: [YAMLPair] = []
      // Keys as Yams compares them (scalar text), for the duplicate check; merge keys included.
      var keys: [(text: String, mark: YAMLMark)] = []
      try next()
      while event.type != YAML_MAPPING_END_EVENT {
        let keyMark = startMark
        var keyText = ""
        var isScalarKey = false
        var isMergeKey = false
        if event.type == YAML_SCALAR_EVENT {
          let scalar = event.data.scalar
          keyText = Self.string(scalar.value, length: scalar.length)
          isScalarKey = true
          isMergeKey = keyText == "<<" && scalar.style == YAML_PLAIN_SCALAR_STYLE
        }
        let key = try node()
        if case .scalar(let scalar) = key, !isScalarKey {
          // An alias to a scalar.
          keyText = scalar.text
          isScalarKey = true
        }
        if isScalarKey { keys.append((keyText, keyMark)) }
        try next()
        let value = try node()
        try next()
        if isMergeKey {
          // YAML merge key: `<<: *defaults` or `<<: [*a, *b]` (earlier mappings win).
          for source in value.items ?? [value] {
            guard case .mapping(let pairs, _) = source else { continue }
            for pair in pairs where !merged.contains(where: { $0.key == pair.key }) { merged.append(pair) }
          }
          continue
        }
        if acceptDuplicates, isScalarKey, let first = explicit.firstIndex(where: { $0.key == keyText }) {
          // PyYAML's dict: the later value, in the first key's place.
          duplicates.append(YAMLLoader.DuplicateKey(key: keyText, line: keyMark.line))
          explicit[first].value = value
          continue
        }
        explicit.append(YAMLPair(key: keyText, keyMark: keyMark, value: value))
      }
      if !acceptDuplicates { try checkDuplicates(keys) }
      let node: YAMLNode
      if merged.isEmpty {
        node = .mapping(explicit, mark)
      } else {
        let inherited = merged.filter { pair in !explicit.contains(where: { $0.key == pair.key }) }
        node = .mapping(inherited + explicit, mark)
      }
      if let anchor { anchors[anchor] = node }
      return node
    default:
      throw YAMLLoader.invalid("unexpected event in the yaml stream", context: nil, mark: mark, path: path)
    }
  }

  /// Enters one more collection, which starts at `mark`; throws past the nesting limit.
  private mutating func enter(_ mark: YAMLMark) throws {
    depth += 1
    if depth > NestingLimit.documents { throw YAMLLoader.tooDeep(path: path, mark: mark) }
  }

  /// Yams' rule: no key twice in one mapping. Reports every repeated key, sorted, at the first one's mark.
  private func checkDuplicates(_ keys: [(text: String, mark: YAMLMark)]) throws {
    guard keys.count > 1 else { return }
    var duplicates: [String: YAMLMark] = [:]
    if keys.count <= 16 {
      for index in 1..<keys.count where duplicates[keys[index].text] == nil {
        if let first = keys[..<index].first(where: { $0.text == keys[index].text }) {
          duplicates[first.text] = first.mark
        }
      }
    } else {
      var seen: [String: YAMLMark] = [:]
      for key in keys {
        if let first = seen[key.text] {
          if duplicates[key.text] == nil { duplicates[key.text] = first }
        } else {
          seen[key.text] = key.mark
        }
      }
    }
    guard !duplicates.isEmpty else { return }
    let sorted = duplicates.keys.sorted()
    throw YAMLLoader.duplicateKeys(
      sorted, path: path, mark: duplicates[sorted[0]] ?? YAMLMark(line: 0, column: 0))
  }
}
