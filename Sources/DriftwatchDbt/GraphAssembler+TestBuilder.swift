import DriftwatchCore

/// dbt's `TestBuilder`: one generic test's arguments, configs, name and id, and the test-name syntax.
extension GraphAssembler {
  /// dbt's `TestBuilder`: argument extraction, configs popped, names synthesised, hash computed.
  private static let configArguments = [
    "severity", "tags", "enabled", "where", "limit", "warn_if", "error_if", "fail_calc", "store_failures",
    "store_failures_as", "meta", "database", "schema", "alias",
  ]
  private static let configArgumentSet = Set(configArguments)

  static func prepareTest(
    _ test: YAMLNode, target: TestTarget, column: ColumnSpec?, entry: PropertiesIndex.Entry,
    context: TestContext
  ) throws(DbtError) -> PreparedTest? {
    let file = entry.file
    let packageName = context.names[file.package]
    func fail(_ problem: String) -> DbtError {
      DbtError(problem, file: file.displayPath, line: test.mark.line, column: test.mark.column)
    }
    // 1. The test's name and arguments, in any of dbt's shapes.
    var testName: String
    var arguments: [PyPair]
    switch test {
    case .scalar:
      guard let name = test.string else { throw fail("a data test entry is empty; name the test") }
      testName = name
      arguments = []
    case .mapping(let pairs, _):
      if let explicit = test["test_name"]?.string {
        testName = explicit
        arguments = pairs.filter { $0.key != "test_name" }.map {
          PyPair(key: .str($0.key), value: $0.value.python)
        }
      } else {
        guard pairs.count == 1, let only = pairs.first else {
          throw fail(
            "a data test must be a name or a mapping with one key (the test's name), or use `test_name:`; "
              + "found keys \(pairs.map(\.key).joined(separator: ", "))")
        }
        testName = only.key
        switch only.value.python {
        case .dict(let inner): arguments = inner
        case .none: arguments = []
        default:
          throw fail("the arguments of test \(only.key) must be a mapping; indent them under the test's name")
        }
      }
    case .sequence:
      throw fail("a data test must be a name or a mapping, not a list")
    }
    if let spec = column { arguments.set("column_name", .str(spec.name)) }
    if context.requireArgumentsProperty[file.package] {
      if case .dict(let nested)? = arguments.remove("arguments") {
        for pair in nested { arguments.set(pair.key.pythonStr, pair.value) }
      }
    }
    if arguments.value("model") != nil {
      throw fail("test \(testName) has an argument named `model`; dbt sets `model` itself, remove it")
    }
    // 2. Namespace and name.
    guard let parsed = Self.parseTestName(testName) else {
      throw fail("`\(testName)` is not a valid test name; use `name` or `package.name`")
    }
    let modelString: String
    switch target.kind {
    case .source:
      modelString = "{{ get_where_subquery(source('\(target.name)', '\(target.tableName ?? "")')) }}"
    case .model where target.version != nil:
      modelString = "{{ get_where_subquery(ref('\(target.name)', version='\(target.version ?? "")')) }}"
    default: modelString = "{{ get_where_subquery(ref('\(target.name)')) }}"
    }
    arguments.set("model", .str(modelString))
    // 3. Configs leave the arguments.
    var nestedConfig: [PyPair] = []
    if case .dict(let pairs)? = arguments.value("config") { nestedConfig = pairs }
    var config: [PyPair] = []
    let hasConfig = arguments.contains { pair in
      guard case .str(let key) = pair.key else { return false }
      return key == "config" || Self.configArgumentSet.contains(key)
    }
    for key in Self.configArguments where hasConfig {
      var value = arguments.remove(key)
      if value.map(Self.isFalsy) ?? true, arguments.value("config") != nil,
        let nested = nestedConfig.remove(key)
      {
        value = nested
      }
      if let value, value != .none { config.set(key, value) }
    }
    if arguments.value("config") != nil {
      _ = arguments.remove("config")
      for pair in nestedConfig where pair.value != .none { config.set(pair.key.pythonStr, pair.value) }
    }
    _ = arguments.remove("description")
    let customName = arguments.remove("name").map(\.pythonStr)
    // 4. Names and id.
    var testType = target.kind == .source ? "source_\(parsed.name)" : parsed.name
    if let namespace = parsed.namespace { testType = "\(namespace)_\(testType)" }
    let targetName: String
    switch target.kind {
    case .source: targetName = "\(target.name)_\(target.tableName ?? "")"
    case .model where target.version != nil: targetName = "\(target.name)_v\(target.version ?? "")"
    default: targetName = target.name
    }
    let fullName =
      customName
      ?? GenericTestNaming.synthesizeNames(testType: testType, targetName: targetName, arguments: arguments)
      .full
    let hash = GenericTestNaming.hash(
      name: fullName, namespace: parsed.namespace, testName: parsed.name, kwargs: arguments)
    let uniqueID = "test.\(packageName).\(fullName).\(hash)"
    // 5. Enabled and tags.
    let fqn = [packageName] + file.folders + [fullName]
    let project = context.config(package: file.package, fqn: fqn)
    var enabledText: String?
    if case .str(let text)? = config.value("enabled"), YAMLValueRendering.needsRendering(text) {
      enabledText = text
    } else {
      let configEnabled = config.value("enabled").flatMap(Self.bool)
      guard configEnabled ?? project.enabled ?? true else { return nil }
    }
    var tags = target.inheritedTags + (column?.tags ?? []) + project.tags
    switch config.value("tags") {
    case .str(let tag)?: tags.append(tag)
    case .list(let items)?: tags += items.compactMap(\.stringValue)
    default: break
    }
    // 6. What the arguments ref() or source() (resolved later, with the attached node).
    var refs: [JinjaScan.Ref] = []
    var sourceCalls: [JinjaScan.Source] = []
    let builtin = parsed.namespace == nil && (parsed.name == "unique" || parsed.name == "not_null")
    if !builtin {
      for pair in arguments where pair.key.pythonStr != "column_name" && pair.key.pythonStr != "model" {
        for text in Self.strings(in: pair.value) {
          let scan: JinjaScan
          do {
            scan =
              Self.looksLikeFunction(text)
              ? try JinjaScanner.scanExpression(text) : try JinjaScanner.scan(text)
          } catch {
            throw fail("test \(fullName): argument `\(pair.key.pythonStr)`: \(error.message)")
          }
          refs += scan.refs.map { Self.relocate($0, to: test) }
          sourceCalls += scan.sources.map { Self.relocate($0, to: test) }
        }
      }
    }
    // 7. What the test checks.
    var columnName = column?.plainName
    if columnName == nil, let named = arguments.value("column_name")?.stringValue {
      columnName = Self.unquote(named)
    }
    var accepted: [String]?
    if parsed.name == "accepted_values", case .list(let values)? = arguments.value("values") {
      accepted = values.map(\.pythonStr)
    }
    let qualified = parsed.namespace.map { "\($0).\(parsed.name)" } ?? parsed.name
    return PreparedTest(
      uniqueID: uniqueID, name: fullName, tags: Self.normalizedTags(tags), refs: refs,
      sourceCalls: sourceCalls,
      testName: qualified, columnName: columnName, acceptedValues: accepted, line: test.mark.line,
      column: test.mark.column, fqn: fqn, enabledText: enabledText)
  }

  /// `((namespace)\.)?(name)` with identifiers `[a-zA-Z_][0-9a-zA-Z_]*`, matched at the start as dbt does.
  static func parseTestName(_ text: String) -> (namespace: String?, name: String)? {
    // Most names are one plain identifier (`unique`, `not_null`): answer those without building strings.
    if let first = text.utf8.first, Self.isIdentifierStart(first),
      text.utf8.allSatisfy({
        Self.isIdentifierStart($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
      })
    {
      return (nil, text)
    }
    func identifier(_ text: Substring) -> Substring? {
      guard let first = text.unicodeScalars.first, first.isASCIILetterOrUnderscore else { return nil }
      var body = String.UnicodeScalarView()
      for scalar in text.unicodeScalars {
        guard scalar.isASCIILetterOrUnderscore || ("0"..."9").contains(scalar) else { break }
        body.append(scalar)
      }
      return Substring(String(body))
    }
    let whole = Substring(text)
    guard let first = identifier(whole) else { return nil }
    let rest = whole.dropFirst(first.count)
    if rest.hasPrefix("."), let second = identifier(rest.dropFirst()) {
      return (String(first), String(second))
    }
    return (nil, String(first))
  }

  private static func isIdentifierStart(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
      || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || byte == UInt8(ascii: "_")
  }

  static func unquote(_ name: String) -> String {
    // Only a name that starts and ends with a quote character can change.
    guard let first = name.utf8.first,
      first == UInt8(ascii: "\"") || first == UInt8(ascii: "`") || first == UInt8(ascii: "'")
    else { return name }
    for quote in ["\"", "`", "'"] where name.count >= 2 && name.hasPrefix(quote) && name.hasSuffix(quote) {
      return String(name.dropFirst().dropLast())
    }
    return name
  }

  private static func isFalsy(_ value: PyValue) -> Bool {
    switch value {
    case .none: return true
    case .bool(let flag): return !flag
    case .str(let text): return text.isEmpty
    case .int(let digits): return digits == "0"
    case .float(let number): return number == 0
    case .list(let items): return items.isEmpty
    case .dict(let pairs): return pairs.isEmpty
    }
  }

  private static func bool(_ value: PyValue) -> Bool? {
    switch value {
    case .bool(let flag): return flag
    case .str(let text):
      switch text.lowercased() {
      case "true": return true
      case "false": return false
      default: return nil
      }
    default: return nil
    }
  }

  /// Every string inside a value (lists and dicts included).
  private static func strings(in value: PyValue) -> [String] {
    switch value {
    case .str(let text): return [text]
    case .list(let items): return items.flatMap(strings)
    case .dict(let pairs): return pairs.flatMap { strings(in: $0.value) }
    default: return []
    }
  }

  /// dbt wraps arguments like `ref('x')` in `{{ }}` before rendering them:
  /// `^\s*(env_var|ref|var|source|doc)\s*\(.+\)\s*$` (no newlines inside).
  static func looksLikeFunction(_ text: String) -> Bool {
    // Most arguments (column names, values) hold no call at all.
    guard text.utf8.contains(UInt8(ascii: "(")), !text.utf8.contains(UInt8(ascii: "\n")) else { return false }
    // Python's str.strip() of spaces and tabs (Foundation's `.whitespaces`: tab and Unicode space separators).
    func isSpace(_ scalar: Unicode.Scalar) -> Bool {
      scalar == " " || scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
    }
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isSpace($0) }),
      let last = scalars.lastIndex(where: { !isSpace($0) })
    else { return false }
    let trimmed = Substring(scalars[first...last])
    for name in ["env_var", "ref", "var", "source", "doc"] where trimmed.hasPrefix(name) {
      let rest = trimmed.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
      if rest.hasPrefix("("), rest.hasSuffix(")"), rest.count > 2 { return true }
    }
    return false
  }
}

extension Unicode.Scalar {
  fileprivate var isASCIILetterOrUnderscore: Bool {
    ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_"
  }
}

extension [PyPair] {
  fileprivate func value(_ key: String) -> PyValue? {
    last(where: { $0.key == .str(key) })?.value
  }

  fileprivate mutating func set(_ key: String, _ value: PyValue) {
    set(PyValue.str(key), value)
  }

  fileprivate mutating func set(_ key: PyValue, _ value: PyValue) {
    if let index = firstIndex(where: { $0.key == key }) {
      self[index].value = value
    } else {
      append(PyPair(key: key, value: value))
    }
  }

  fileprivate mutating func remove(_ key: String) -> PyValue? {
    guard let index = firstIndex(where: { $0.key == .str(key) }) else { return nil }
    return self.remove(at: index).value
  }
}
