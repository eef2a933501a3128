/// A column that a model's compiled SQL fills with NULL because the source column it selects is gone: the
/// staging model still has the column, dbt stays green, and every value downstream is NULL.
public struct SilentNull: Sendable, Hashable, Codable {
  /// The model whose SQL selects NULL in the column's place.
  public var node: String
  /// The column, as the model names it.
  public var column: String
  /// The names the model gives the column further on (`id as issue_id`), read downstream as the column.
  public var aliases: [String]
  /// What reads the NULL column downstream: the models that name it (and everything below them), the
  /// tests on it and the exposures of those models.
  public var readBy: BlastRadius

  public init(node: String, column: String, aliases: [String] = [], readBy: BlastRadius) {
    self.node = node
    self.column = column
    self.aliases = aliases
    self.readBy = readBy
  }
}

/// A reader whose column reads are not known exactly: it was not rendered (it counts as reading every
/// column of its parents), rendered approximately, or only its raw SQL was known and it calls a macro.
public struct ColumnReadNote: Sendable, Hashable, Codable {
  public enum Status: String, Sendable, Hashable, Codable {
    /// Rendered with something that needs a real query or an inferred column list.
    case approximate
    /// Could not be rendered: counted as reading every column of its parents.
    case unrendered
    /// Only the raw SQL was known, and a macro call in it produces SQL driftwatch did not see: counted as
    /// reading every column.
    case rawMacro = "raw_macro"
  }

  public var node: String
  public var status: Status
  public var reason: String

  public init(node: String, status: Status, reason: String) {
    self.node = node
    self.status = status
    self.reason = reason
  }
}

extension ColumnUsage {
  /// Whether `sql` selects NULL under the name `column`: `null as c`, `cast(null as T) as c`,
  /// `null::T as c` (names compared case-insensitively, quotes removed).
  public static func selectsNull(as column: String, in sql: String) -> Bool {
    let target = column.lowercased()
    let tokens = SQLTokens(sql).tokens
    var index = 0
    while index + 1 < tokens.count {
      defer { index += 1 }
      guard tokens[index] == "as", tokens[index + 1] == target else { continue }
      // The select item ends at `as`: walk back to its start (a `,`, `select` or an opening parenthesis).
      var depth = 0
      var start = index - 1
      while start >= 0 {
        let token = tokens[start]
        if token == ")" {
          depth += 1
        } else if token == "(" {
          if depth == 0 { break }
          depth -= 1
        } else if depth == 0 && (token == "," || token == "select" || token == "distinct") {
          break
        }
        start -= 1
      }
      let item = Array(tokens[(start + 1)..<index])
      if item.first == "null" && (item.count == 1 || item[1] == "::") { return true }
      if item.count >= 4, item[0] == "cast", item[1] == "(", item[2] == "null", item[3] == "as",
        item.last == ")"
      {
        return true
      }
    }
    return false
  }

  /// Whether `word (` is a function call (not `as (`, `from (`, `in (` …).
  static func callsOpenParenthesis(_ word: String) -> Bool {
    guard let first = word.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else {
      return false
    }
    return ![
      "as", "from", "in", "join", "select", "where", "with", "on", "and", "or", "not", "exists", "over",
      "union", "all", "values",
    ]
    .contains(word)
  }

  /// The names `sql` gives `column` in a select list (`id as issue_id`, `cast(id as bigint) as issue_id`):
  /// what a reader downstream of the model reads it as. The column's own name is not included.
  public static func aliases(of column: String, in sql: String) -> Set<String> {
    let target = column.lowercased()
    let tokens = SQLTokens(sql).tokens
    var aliases = Set<String>()
    for index in tokens.indices where tokens[index] == target {
      // The select item around this mention: back to a `,`, `select` or an opening parenthesis, then forward
      // to the item's end; its last `as name` at the item's own depth names it.
      var depth = 0
      var start = index - 1
      while start >= 0 {
        let token = tokens[start]
        if token == ")" {
          depth += 1
        } else if token == "(" {
          // A call's parenthesis (`cast(`, `coalesce(`) is part of the item; a subquery's or a CTE's is not.
          let caller = start > 0 ? tokens[start - 1] : ""
          if depth == 0 && !Self.callsOpenParenthesis(caller) { break }
          if depth > 0 { depth -= 1 }
        } else if depth == 0 && (token == "," || token == "select" || token == "distinct") {
          break
        }
        start -= 1
      }
      depth = 0
      var position = start + 1
      var alias: String?
      while position < tokens.count {
        let token = tokens[position]
        if token == "(" {
          depth += 1
        } else if token == ")" {
          if depth == 0 { break }
          depth -= 1
        } else if depth == 0 && (token == "," || token == "from" || token == "where" || token == "select") {
          break
        } else if depth == 0 && token == "as", position + 1 < tokens.count {
          alias = tokens[position + 1]
        }
        position += 1
      }
      if let alias, alias != target, alias.first.map({ $0.isLetter || $0 == "_" }) == true {
        aliases.insert(alias)
      }
    }
    return aliases
  }
}

/// SQL split into lowercased words (quotes removed), `::` and single symbols; comments and string literals
/// dropped (a literal becomes `'`).
struct SQLTokens {
  var tokens: [String] = []

  init(_ sql: String) {
    let scalars = Array(sql.unicodeScalars)
    var index = 0
    func isWord(_ c: Unicode.Scalar) -> Bool {
      (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "$"
        || c.value > 127
    }
    while index < scalars.count {
      let c = scalars[index]
      let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
      if c == "-" && next == "-" {
        while index < scalars.count, scalars[index] != "\n" { index += 1 }
      } else if c == "/" && next == "*" {
        index += 2
        while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
        index += 2
      } else if c == "'" {
        index = SQLScan.end(ofStringLiteralAt: index, in: scalars)
        tokens.append("'")
      } else if c == "\"" || c == "`" {
        var name = ""
        index += 1
        while index < scalars.count, scalars[index] != c {
          name.unicodeScalars.append(scalars[index])
          index += 1
        }
        index += 1
        tokens.append(name.lowercased())
      } else if isWord(c) {
        var word = ""
        while index < scalars.count, isWord(scalars[index]) {
          word.unicodeScalars.append(scalars[index])
          index += 1
        }
        tokens.append(word.lowercased())
      } else if c == ":" && next == ":" {
        tokens.append("::")
        index += 2
      } else {
        if !c.properties.isWhitespace { tokens.append(String(c)) }
        index += 1
      }
    }
  }
}

extension Context {
  /// `change` with the models whose compiled SQL fills its column with NULL (and what reads them), when it
  /// is a column that is gone (missing, renamed or split): such a change is breaking even though dbt stays
  /// green.
  func withSilentNulls(_ change: DriftChange) -> DriftChange {
    guard change.silentNulls == nil,
      [.columnMissing, .columnRenamed, .columnSplit].contains(change.kind), let column = change.from
    else { return change }
    var found: [SilentNull] = []
    for id in change.blastRadius.models {
      guard let node = project.nodes[id], let compiled = node.compiled, let sql = compiled.sql,
        ColumnUsage.selectsNull(as: column, in: sql)
      else { continue }
      // NULL written in the model itself is not an adaptation to the drift.
      if let raw = node.rawCode, ColumnUsage.selectsNull(as: column, in: raw) { continue }
      let aliases = ColumnUsage.aliases(of: column, in: sql).sorted()
      found.append(
        SilentNull(
          node: id, column: column, aliases: aliases,
          readBy: nullReaders(of: node, names: [column] + aliases)))
    }
    guard !found.isEmpty else { return change }
    var change = change
    change.silentNulls = found
    change.breaking = true
    for silent in found {
      change.evidence.append(
        "silently NULL in \(silent.node).\(silent.column)"
          + (silent.aliases.isEmpty ? "" : " (as \(silent.aliases.joined(separator: ", ")))")
          + " (its compiled SQL selects NULL in the column's place; dbt stays green)"
          + readByPhrase(silent.readBy))
    }
    return change
  }

  /// What reads the column of `node` known by `names` downstream: its children whose SQL names it, the
  /// tests on it, and the exposures on the node; then everything below those.
  func nullReaders(of node: GraphNode, names: [String]) -> BlastRadius {
    let lowered = Set(names.map { $0.lowercased() })
    var start = Set<String>()
    for childID in lineage.children(of: node.uniqueID) {
      guard let child = project.nodes[childID] else { continue }
      switch child.resourceType {
      case .exposure: start.insert(childID)
      case .test:
        if lowered.contains(child.test?.columnName?.lowercased() ?? "") || child.test?.testName == "singular"
        {
          start.insert(childID)
        }
      default:
        let usage = child.columnUsage
        if usage == nil || names.contains(where: { usage?.reads(column: $0) == true }) {
          start.insert(childID)
        }
      }
    }
    guard !start.isEmpty else { return BlastRadius() }
    return radius(lineage.impact(from: start))
  }

  func readByPhrase(_ radius: BlastRadius) -> String {
    var parts: [String] = []
    if !radius.models.isEmpty {
      parts.append(
        "\(radius.models.count) model\(radius.models.count == 1 ? "" : "s") ("
          + radius.models.map(Self.shortName).joined(separator: ", ") + ")")
    }
    var byType: [String: [String]] = [:]
    for id in radius.exposures {
      byType[project.nodes[id]?.exposureType ?? "exposure", default: []].append(Self.shortName(id))
    }
    for (type, names) in byType.sorted(by: { $0.key < $1.key }) {
      parts.append("\(names.count) \(type)\(names.count == 1 ? "" : "s") (\(names.joined(separator: ", ")))")
    }
    if !radius.tests.isEmpty {
      parts.append("\(radius.tests.count) test\(radius.tests.count == 1 ? "" : "s")")
    }
    return parts.isEmpty ? "" : ", read by " + parts.joined(separator: " and ")
  }

  /// The readers of the changed sources (and the models in the changes' blast radii) whose column reads are
  /// not known exactly, with why.
  func columnReadNotes(_ changes: [DriftChange]) -> [ColumnReadNote] {
    var ids = Set<String>()
    for change in changes {
      if let source = change.sourceID { ids.formUnion((readers[source] ?? []).map(\.uniqueID)) }
      ids.formUnion(change.blastRadius.models)
    }
    var notes: [ColumnReadNote] = []
    for id in ids.sorted() {
      guard let node = project.nodes[id] else { continue }
      if let compiled = node.compiled {
        switch compiled.status {
        case .compiled: continue
        case .approximate:
          notes.append(
            ColumnReadNote(node: id, status: .approximate, reason: compiled.reason ?? "approximate"))
        case .unrendered:
          notes.append(
            ColumnReadNote(
              node: id, status: .unrendered,
              reason: (compiled.reason ?? "could not be rendered") + "; counted as reading every column"))
        }
      } else if let raw = node.rawCode, let call = ColumnUsage(sql: raw).unreadableCall {
        notes.append(
          ColumnReadNote(
            node: id, status: .rawMacro,
            reason: "its SQL calls \(call), whose output driftwatch did not render (no compiled SQL); "
              + "counted as reading every column"))
      }
    }
    return notes
  }
}
