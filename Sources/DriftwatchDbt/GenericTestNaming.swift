import DriftwatchJinja

/// dbt's naming of generic (YAML-declared) data tests, reproduced so that driftwatch's ids equal dbt's.
///
/// dbt-core (`generic_test_builders.py`, `schema_generic_tests.py`):
/// - the name is `<test type>_<target name>_<arguments>`: the test type is the test's name, prefixed with
///   `source_` on sources and with `<namespace>_` for package tests (`dbt_utils_expression_is_true`); the
///   target is the model (`<model>_v<version>` for a version) or `<source>_<table>`; the arguments are the
///   `str()` of every argument value except `model`, sorted by argument name, dicts contributing their
///   values and lists their items, each with runs of non-`[0-9a-zA-Z_]` replaced by `_`, joined by `__`.
/// - when that name is 64 characters or more, only the compiled file and the relation alias are shortened
///   (first 30 characters of `<type>_<target>`, `_`, MD5 of the full name); the unique id and the node name
///   keep the full name.
/// - a `name:` on the test replaces the synthesised name.
/// - the unique id is `test.<package>.<name>.<hash>`, the hash being the last 10 hex digits of
///   MD5(name + repr(metadata)), where metadata is `{namespace, name, kwargs}` with every scalar turned
///   into `str()` and every dict's keys sorted.
enum GenericTestNaming {
  /// `(short name, full name)`: the short one is what dbt uses for the alias when the full one is long.
  static func synthesizeNames(testType: String, targetName: String, arguments: [PyPair]) -> (
    short: String, full: String
  ) {
    var flat: [String] = []
    for pair in sortedByPythonOrder(arguments) {
      if pair.key.pythonStr == "model" { continue }
      switch pair.value {
      case .dict(let pairs): flat += pairs.map(\.value.pythonStr)
      case .list(let items): flat += items.map(\.pythonStr)
      default: flat.append(pair.value.pythonStr)
      }
    }
    let unique = flat.map(clean).joined(separator: "__")
    var identifier = testType
    identifier += "_"
    identifier += targetName
    var full = identifier
    full += "_"
    full += unique
    guard scalarCount(full) >= 64 else { return (full, full) }
    var short = String(identifier[..<scalarPrefixEnd(identifier, 30)])
    short += "_"
    short += MD5.hex(full)
    return (short, full)
  }

  /// Python's `len()`: code points, counted as the UTF-8 bytes that start one (no grapheme breaking).
  static func scalarCount(_ text: String) -> Int {
    var count = 0
    for byte in text.utf8 where byte & 0xC0 != 0x80 { count += 1 }
    return count
  }

  /// Where the first `limit` code points of `text` end (Python's `text[:limit]`).
  static func scalarPrefixEnd(_ text: String, _ limit: Int) -> String.Index {
    var seen = 0
    var index = text.utf8.startIndex
    while index < text.utf8.endIndex {
      if text.utf8[index] & 0xC0 != 0x80 {
        if seen == limit { return index }
        seen += 1
      }
      index = text.utf8.index(after: index)
    }
    return text.endIndex
  }

  /// The 10-hex-digit suffix of a generic test's unique id.
  static func hash(name: String, namespace: String?, testName: String, kwargs: [PyPair]) -> String {
    // repr(get_hashable_md({namespace, name, kwargs})), written straight into the bytes MD5 reads: the keys in
    // Python's order are kwargs, name, namespace; every scalar (None too) is its str().
    var text = ReprBytes(capacity: name.utf8.count * 2 + 320)
    text.append(name)
    text.append("{'kwargs': ")
    appendHashableRepr(.dict(kwargs), to: &text)
    text.append(", 'name': ")
    text.appendReprString(testName)
    text.append(", 'namespace': ")
    text.appendReprString(namespace ?? "None")
    text.append("}")
    let digest = MD5.hex(bytes: text.bytes)
    return String(digest.suffix(10))
  }

  /// `repr(hashable(value))` without building the hashable copy.
  static func appendHashableRepr(_ value: PyValue, to output: inout ReprBytes) {
    switch value {
    case .dict(let pairs):
      output.append("{")
      for (index, pair) in sortedByPythonOrder(pairs).enumerated() {
        if index > 0 { output.append(", ") }
        if case .str(let key) = pair.key {
          output.appendReprString(key)
        } else {
          output.append(pair.key.pythonRepr)
        }
        output.append(": ")
        appendHashableRepr(pair.value, to: &output)
      }
      output.append("}")
    case .list(let items):
      output.append("[")
      for (index, item) in items.enumerated() {
        if index > 0 { output.append(", ") }
        appendHashableRepr(item, to: &output)
      }
      output.append("]")
    case .str(let text):
      output.appendReprString(text)
    default:
      output.appendReprString(value.pythonStr)
    }
  }

  /// dbt's `get_hashable_md`: dict keys sorted, lists kept, every other value replaced by its `str()`.
  static func hashable(_ value: PyValue) -> PyValue {
    switch value {
    case .dict(let pairs):
      return .dict(sortedByPythonOrder(pairs).map { PyPair(key: $0.key, value: hashable($0.value)) })
    case .list(let items):
      return .list(items.map(hashable))
    default:
      return .str(value.pythonStr)
    }
  }

  /// `re.sub("[^0-9a-zA-Z_]+", "_", text)`
  static func clean(_ text: String) -> String {
    // Identifiers and plain words need no change: share the text.
    if text.utf8.allSatisfy({ byte in
      (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
        || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
    }) {
      return text
    }
    var output = String.UnicodeScalarView()
    var inRun = false
    for scalar in text.unicodeScalars {
      let keep =
        (scalar >= "0" && scalar <= "9") || (scalar >= "a" && scalar <= "z")
        || (scalar >= "A" && scalar <= "Z")
        || scalar == "_"
      if keep {
        output.append(scalar)
        inRun = false
      } else if !inRun {
        output.append("_")
        inRun = true
      }
    }
    return String(output)
  }

  /// Python sorts `str` keys by code point, which is the order of their UTF-8 bytes.
  static func sortedByPythonOrder(_ pairs: [PyPair]) -> [PyPair] {
    if pairs.count < 2 { return pairs }
    func precedes(_ lhs: PyPair, _ rhs: PyPair) -> Bool {
      if case .str(let left) = lhs.key, case .str(let right) = rhs.key {
        return left.utf8.lexicographicallyPrecedes(right.utf8)
      }
      return lhs.key.pythonStr.utf8.lexicographicallyPrecedes(rhs.key.pythonStr.utf8)
    }
    // Often already in order (`column_name`, `model`): no copy then.
    if zip(pairs, pairs.dropFirst()).allSatisfy({ !precedes($1, $0) }) { return pairs }
    return pairs.sorted(by: precedes)
  }
}

/// Python `repr` text written as UTF-8 bytes (what MD5 reads), without growing a `String` piece by piece.
struct ReprBytes {
  private(set) var bytes: [UInt8] = []

  init(capacity: Int) {
    bytes.reserveCapacity(capacity)
  }

  mutating func append(_ text: String) {
    var text = text
    text.withUTF8 { bytes.append(contentsOf: $0) }
  }

  /// `repr()` of a `str`, as `PyValue.appendReprString` writes it; printable ASCII without quotes or
  /// backslashes (nearly every name and argument) is copied whole.
  mutating func appendReprString(_ value: String) {
    var value = value
    let plain = value.withUTF8 { utf8 in
      for byte in utf8 {
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "\\"): return false
        case 0x20...0x7E: continue
        default: return false
        }
      }
      bytes.append(UInt8(ascii: "'"))
      bytes.append(contentsOf: utf8)
      bytes.append(UInt8(ascii: "'"))
      return true
    }
    if plain { return }
    var quoted = ""
    PyValue.appendReprString(value, to: &quoted)
    append(quoted)
  }
}
