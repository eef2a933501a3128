import Yams

/// A YAML document as plain Sendable values, with line and column marks, and PyYAML's reading of plain
/// scalars (dbt loads YAML with PyYAML, YAML 1.1 rules: `yes` is a boolean, `012` is octal).
struct YAMLMark: Sendable, Hashable {
  var line: Int
  var column: Int
}

struct YAMLScalar: Sendable, Hashable {
  var text: String
  /// Unquoted: subject to implicit typing (null, bool, int, float).
  var plain: Bool
  var mark: YAMLMark
}

struct YAMLPair: Sendable {
  var key: String
  var keyMark: YAMLMark
  var value: YAMLNode
}

indirect enum YAMLNode: Sendable {
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
  static func load(_ text: String, path: String) throws -> YAMLNode? {
    let root: Node?
    do {
      // The basic resolver leaves plain scalars untyped (and skips Yams' regular expressions):
      // `PyYAML` types them the way dbt sees them. UTF-8 is Swift's native encoding: naming it spares Yams a
      // look at the whole process environment for every file.
      root = try Parser(yaml: text, resolver: .basic, encoding: .utf8).singleRoot()
    } catch let error as YamlError {
      throw describe(error, path: path)
    }
    guard let root else { return nil }
    return convert(root)
  }

  static func describe(_ error: YamlError, path: String) -> DbtError {
    let advice = "fix the yaml and run again"
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      var detail = problem
      if let context {
        detail += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
      }
      return DbtError("invalid yaml: \(detail); \(advice)", file: path, line: mark.line, column: mark.column)
    case .duplicatedKeysInMapping(let duplicates, let context):
      return DbtError(
        "invalid yaml: duplicate key \(duplicates.map { "`\($0)`" }.joined(separator: ", ")) in one mapping; "
          + "keep one of them",
        file: path, line: context.mark.line, column: context.mark.column)
    case .reader(let problem, _, _, _):
      return DbtError("unreadable yaml: \(problem); save the file as utf-8", file: path)
    default:
      return DbtError("invalid yaml: \(error); \(advice)", file: path)
    }
  }

  private static func mark(_ mark: Mark?) -> YAMLMark {
    YAMLMark(line: mark?.line ?? 0, column: mark?.column ?? 0)
  }

  private static func convert(_ node: Node) -> YAMLNode {
    switch node {
    case .scalar(let scalar):
      return .scalar(
        YAMLScalar(
          text: scalar.string, plain: scalar.style == .plain || scalar.style == .any, mark: mark(scalar.mark))
      )
    case .sequence(let sequence):
      return .sequence(sequence.map(convert), mark(sequence.mark))
    case .mapping(let mapping):
      var explicit: [YAMLPair] = []
      var merged: [YAMLPair] = []
      for (key, value) in mapping {
        let keyText = key.scalar?.string ?? ""
        if keyText == "<<", key.scalar?.style == .plain {
          // YAML merge key: `<<: *defaults` or `<<: [*a, *b]` (earlier mappings win).
          let sources = value.sequence.map { Array($0) } ?? [value]
          for source in sources {
            guard case .mapping(let pairs, _) = convert(source) else { continue }
            for pair in pairs where !merged.contains(where: { $0.key == pair.key }) { merged.append(pair) }
          }
          continue
        }
        explicit.append(YAMLPair(key: keyText, keyMark: mark(key.mark), value: convert(value)))
      }
      let inherited = merged.filter { pair in !explicit.contains(where: { $0.key == pair.key }) }
      return .mapping(inherited + explicit, mark(mapping.mark))
    case .alias:
      return .scalar(YAMLScalar(text: "", plain: true, mark: mark(node.mark)))
    }
  }
}
