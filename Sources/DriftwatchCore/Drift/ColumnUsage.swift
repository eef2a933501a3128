/// Which columns a model's SQL reads, told from its text without a full SQL parser.
///
/// Conservative by design: a name that appears as an identifier anywhere in the SQL counts as read, and
/// `select *`, `t.*` or a `star(` macro means every column is read. In SQL that still holds Jinja (a node's
/// raw code, when no compiled SQL is known), a string inside `{{ … }}` or `{% … %}` counts as a name, and a
/// call of a macro whose output driftwatch cannot see (`{{ fill_columns(…) }}`, anything but `ref`, `source`,
/// `config`, `var`, dbt's cross-database `dbt.*` helpers and the like) means every column is read: a column
/// list a macro produces is unknown, never "reads nothing".
public struct ColumnUsage: Sendable, Hashable {
  public var identifiers: Set<String>
  public var readsEverything: Bool
  /// The first macro call that made the usage read everything (`fill_columns(…)`), for evidence.
  public var unreadableCall: String?

  public init(sql: String) {
    var identifiers = Set<String>()
    var readsEverything = false
    var unreadableCall: String?
    let scalars = Array(sql.unicodeScalars)
    var index = 0
    var previousWord = ""
    var previousSymbol: Unicode.Scalar?
    // Inside `{{ … }}` / `{% … %}`: strings are names passed to macros, and calls are macro calls.
    var inJinja = false
    // The dotted name being read (`dbt_utils.star`), for a call that follows it.
    var chain = ""
    func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
      (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c.value > 127
    }
    func isIdentifierBody(_ c: Unicode.Scalar) -> Bool {
      isIdentifierStart(c) || (c >= "0" && c <= "9") || c == "$"
    }
    while index < scalars.count {
      let c = scalars[index]
      let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
      if c == "{" && next == "#" {  // Jinja comment
        index += 2
        while index + 1 < scalars.count, !(scalars[index] == "#" && scalars[index + 1] == "}") { index += 1 }
        index += 2
      } else if c == "{" && (next == "{" || next == "%") {
        inJinja = true
        chain = ""
        index += 2
      } else if inJinja && (c == "}" || c == "%") && next == "}" {
        inJinja = false
        chain = ""
        index += 2
      } else if !inJinja && c == "-" && next == "-" {  // SQL line comment
        while index < scalars.count, scalars[index] != "\n" { index += 1 }
      } else if !inJinja && c == "/" && next == "*" {
        index += 2
        while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
        index += 2
      } else if inJinja && (c == "'" || c == "\"") {  // a Jinja string: maybe a column passed to a macro
        let quote = c
        var text = ""
        index += 1
        while index < scalars.count, scalars[index] != quote {
          if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
          text.unicodeScalars.append(scalars[index])
          index += 1
        }
        index += 1
        // `'orders.order_date'`: the whole string and each name in it.
        let lowered = text.lowercased()
        identifiers.insert(lowered)
        for part in lowered.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") })
        {
          identifiers.insert(String(part))
        }
        previousSymbol = "'"
        chain = ""
      } else if c == "'" {  // string literal: values, not identifiers
        index = SQLScan.end(ofStringLiteralAt: index, in: scalars)
        previousSymbol = "'"
      } else if c == "\"" || c == "`" {  // quoted identifier
        let quote = c
        var name = ""
        index += 1
        while index < scalars.count, scalars[index] != quote {
          name.unicodeScalars.append(scalars[index])
          index += 1
        }
        index += 1
        identifiers.insert(name.lowercased())
        previousWord = name.lowercased()
        previousSymbol = nil
      } else if isIdentifierStart(c) {
        var word = ""
        while index < scalars.count, isIdentifierBody(scalars[index]) {
          word.unicodeScalars.append(scalars[index])
          index += 1
        }
        let lower = word.lowercased()
        identifiers.insert(lower)
        if lower == "star", index < scalars.count, scalars[index] == "(" { readsEverything = true }
        if inJinja {
          chain = previousSymbol == "." && !chain.isEmpty ? chain + "." + lower : lower
          var look = index
          while look < scalars.count, scalars[look] == " " { look += 1 }
          if look < scalars.count, scalars[look] == "(", !Self.isTransparentCall(chain) {
            readsEverything = true
            if unreadableCall == nil { unreadableCall = chain + "(…)" }
          }
        }
        previousWord = lower
        previousSymbol = nil
      } else if c == "*" {
        // `select *`, `, *` and `t.*` read every column; `count(*)` and `a * b` do not.
        if previousSymbol == "," || previousSymbol == "."
          || (previousSymbol == nil && (previousWord == "select" || previousWord == "distinct"))
        {
          readsEverything = true
        }
        previousSymbol = c
        index += 1
      } else {
        if !c.properties.isWhitespace {
          previousSymbol = c
          if c != "." { chain = "" }
        }
        index += 1
      }
    }
    self.identifiers = identifiers
    self.readsEverything = readsEverything
    self.unreadableCall = unreadableCall
  }

  public func reads(column: String) -> Bool {
    readsEverything || identifiers.contains(column.lowercased())
  }

  /// Jinja calls whose output is not a column list: what they print is a relation, a value or nothing, and
  /// any column they take is passed by name (and so already counted).
  static func isTransparentCall(_ name: String) -> Bool {
    if transparentCalls.contains(name) { return true }
    for prefix in ["dbt.", "modules.", "exceptions.", "target.", "loop.", "api.", "run_started_at."]
    where name.hasPrefix(prefix) {
      return true
    }
    let last = name.split(separator: ".").last.map(String.init) ?? name
    return name.contains(".") && stringMethods.contains(last)
  }

  private static let transparentCalls: Set<String> = [
    "ref", "source", "config", "var", "env_var", "is_incremental", "should_full_refresh", "log", "print",
    "return", "adapter.quote", "range", "zip", "dict", "list", "namespace", "tojson", "fromjson", "toyaml",
    "fromyaml", "set", "local_md5", "doc", "caller", "builtins.ref", "builtins.source", "config.get",
    "var.has_var", "current_timestamp", "this.render",
  ]

  private static let stringMethods: Set<String> = [
    "upper", "lower", "strip", "lstrip", "rstrip", "replace", "split", "join", "format", "items", "keys",
    "values", "get", "append", "extend", "startswith", "endswith", "title", "capitalize", "update", "pop",
    "render", "include", "quote", "identifier", "count", "index",
  ]
}

/// What a reader's SQL is when dbt compiles it, as far as driftwatch knows it: the manifest's `compiled_code`,
/// or the node rendered by the project reader with dbt's compile-time context against the live schema.
public struct CompiledReader: Sendable, Hashable, Codable {
  public enum Status: String, Sendable, Hashable, Codable {
    /// The SQL dbt runs (the manifest's `compiled_code`, or an exact render).
    case compiled
    /// Rendered, but something in it needs a real query (`run_query`) or an inferred column list: the SQL
    /// is close to, not exactly, what dbt runs.
    case approximate
    /// Could not be rendered: it counts as reading every column of its parents.
    case unrendered
  }

  /// The compiled SQL; `nil` when `unrendered`.
  public var sql: String?
  public var status: Status
  /// For `approximate` and `unrendered`: why, naming the file and construct.
  public var reason: String?
  /// The SQL was rendered against the live schema (not before the drift, as a manifest's may be): a column
  /// it fills with NULL is one the warehouse no longer has.
  public var againstLiveSchema: Bool

  public init(sql: String?, status: Status, reason: String? = nil, againstLiveSchema: Bool = false) {
    self.sql = sql
    self.status = status
    self.reason = reason
    self.againstLiveSchema = againstLiveSchema
  }
}

/// Renders readers' SQL as dbt would compile it, with introspection answered from a live schema already
/// read. Implemented by the dbt project reader; Core only calls it with values.
public protocol ReaderCompiler: Sendable {
  /// The compiled SQL of `nodes` (unique ids), with `adapter.get_columns_in_relation` and the like answered
  /// from `live`.
  func compile(_ nodes: [String], project: ProjectGraph, live: LiveSchema) -> [String: CompiledReader]
}

/// Holds a `ReaderCompiler` in a `Codable` graph: it is never encoded (it decodes as none).
public struct ReaderCompilerBox: Sendable, Codable {
  public var compiler: (any ReaderCompiler)?

  public init(_ compiler: (any ReaderCompiler)?) { self.compiler = compiler }

  public init(from decoder: any Decoder) throws { compiler = nil }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encodeNil()
  }
}

extension GraphNode {
  /// What this node's SQL reads: its compiled SQL when known, else its raw code; `nil` when neither is known
  /// or it could not be rendered (it then reads every column).
  public var columnUsage: ColumnUsage? {
    if let compiled {
      guard let sql = compiled.sql, compiled.status != .unrendered else { return nil }
      return ColumnUsage(sql: sql)
    }
    return rawCode.map { ColumnUsage(sql: $0) }
  }
}

extension ProjectGraph {
  /// How far below a changed source readers are compiled: its readers, what reads them and one step more
  /// (a connector's `_tmp` model, its staging model that fills absent columns with NULL, and the marts).
  public static let compiledReaderDepth = 3

  /// The graph with the models within `compiledReaderDepth` steps below `changedSources` compiled against
  /// `live` by its `readerCompiler` (their `compiled` SQL then decides which columns they read); the graph
  /// as it is without a compiler or a changed source.
  public func compilingReaders(of changedSources: Set<String>, live: LiveSchema, lineage: LineageGraph)
    -> ProjectGraph
  {
    guard let compiler = readerCompiler?.compiler, !changedSources.isEmpty else { return self }
    let ids = lineage.descendants(of: changedSources, depth: Self.compiledReaderDepth)
      .filter { nodes[$0]?.resourceType == .model && nodes[$0]?.compiled == nil }.sorted()
    guard !ids.isEmpty else { return self }
    var graph = self
    for (id, compiled) in compiler.compile(ids, project: self, live: live) {
      graph.nodes[id]?.compiled = compiled
    }
    return graph
  }
}
