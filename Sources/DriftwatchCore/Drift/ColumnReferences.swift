/// The names a model's SQL uses as column references, told apart from the names it defines (column and
/// table aliases, CTE names), the relations it selects from, functions, types and keywords.
///
/// `ColumnUsage` answers "may this SQL read column c?" and says yes to every identifier. This answers the
/// other question, "which columns does this SQL expect its relation to have?", which must not count an
/// alias (`customer as customer_id`) as a column: a source that declares no columns is then still checked
/// against what its readers read. Lexical, without a full parser, and so conservative in what it claims:
/// Jinja is skipped (its arguments are strings), a name defined as an alias before it is used is the alias,
/// and a reader of several relations cannot say which one a name comes from (callers only use readers of a
/// single relation).
public struct ColumnReferences: Sendable, Hashable {
  /// Lowercased names used where a column is read, minus every name the SQL defines (an alias other than
  /// `x as x`, a CTE): conservative, as a subquery's alias may be read before it is defined.
  public var names: Set<String>

  public init(sql: String) {
    let tokens = Self.tokens(sql)
    var defined = Set<String>()
    var referenced = Set<String>()
    var index = 0
    /// For each open parenthesis, the function it calls (`extract`), if any.
    var parentheses: [String?] = []
    /// The parenthesis depths at which a from list is open: after `from` (and `,` in its list) a relation
    /// comes, then maybe its alias.
    var fromDepths: [Int] = []
    var inFromList: Bool { fromDepths.last == parentheses.count }
    func word(_ offset: Int) -> String? {
      let at = index + offset
      guard at >= 0, at < tokens.count, case .word(let word, _) = tokens[at] else { return nil }
      return word
    }
    func symbol(_ offset: Int) -> String? {
      let at = index + offset
      guard at >= 0, at < tokens.count, case .symbol(let symbol) = tokens[at] else { return nil }
      return symbol
    }
    func isName(_ offset: Int) -> Bool {
      let at = index + offset
      guard at >= 0, at < tokens.count, case .word(let word, let quoted) = tokens[at] else { return false }
      return quoted || !Self.keywords.contains(word)
    }
    /// Whether the token at `offset` ends an expression (so a bare name after it is an alias).
    func endsExpression(_ offset: Int) -> Bool {
      let at = index + offset
      guard at >= 0, at < tokens.count else { return false }
      switch tokens[at] {
      case .word(let word, let quoted): return quoted || word == "end" || !Self.keywords.contains(word)
      case .literal, .template: return true
      case .symbol(let symbol): return symbol == ")"
      }
    }
    /// Skips a relation: `a`, `a.b.c` or a template (a parenthesised subquery is left to the main loop),
    /// then its alias: `as x` or a bare `x`.
    func skipRelation() {
      if index < tokens.count, case .template = tokens[index] {
        index += 1
      } else {
        while isName(0) {
          index += 1
          if symbol(0) == "." { index += 1 } else { break }
        }
      }
      if word(0) == "as", isName(1), let alias = word(1) {
        defined.insert(alias)
        index += 2
      } else if isName(0), let alias = word(0) {
        defined.insert(alias)
        index += 1
      }
    }
    while index < tokens.count {
      switch tokens[index] {
      case .literal, .template:
        index += 1
      case .symbol(let mark):
        index += 1
        switch mark {
        case "(":
          parentheses.append(word(-2))
        case ")":
          _ = parentheses.popLast()
          while let depth = fromDepths.last, depth > parentheses.count { fromDepths.removeLast() }
        case ",":
          if inFromList, symbol(0) != "(" { skipRelation() }
        case "::":
          // A cast's type: `x::numeric(10, 2)`, `x::timestamp with time zone`, `x::double precision`.
          if word(0) != nil { index += 1 }
          while let next = word(0),
            ["with", "without", "time", "zone", "varying", "precision"].contains(next)
          {
            index += 1
          }
        default: break
        }
      case .word(let name, let quoted):
        let function = parentheses.last ?? nil
        if !quoted, name == "from" || name == "join" {
          // `extract(year from x)`, `substring(x from 2)`, `a is distinct from b`: not a relation.
          let inFunction = ["extract", "substring", "substr", "trim", "overlay", "position"].contains(
            function ?? "")
          if inFunction || word(-1) == "distinct" {
            index += 1
            continue
          }
          if name == "from", !inFromList { fromDepths.append(parentheses.count) }
          index += 1
          if symbol(0) != "(" { skipRelation() }
          continue
        }
        if !quoted, Self.clauseEnds.contains(name), inFromList { fromDepths.removeLast() }
        if !quoted, name == "as" {
          // `x as (` is a CTE (its name recorded below); `expr as alias` defines a column alias;
          // `cast(x as type)` names a type.
          if symbol(1) != "(", let alias = word(1) {
            // `customer as customer` keeps the column's name: still a read of it.
            let identity = word(-1) == alias
            if !identity && !["cast", "try_cast", "safe_cast"].contains(function ?? "") {
              defined.insert(alias)
            }
            index += 2
          } else {
            index += 1
          }
          continue
        }
        // Keywords; the date part of `extract(year from …)`.
        if (!quoted && Self.keywords.contains(name)) || (function == "extract" && symbol(-1) == "(") {
          index += 1
          continue
        }
        // A function call, or a CTE's name (`name as (`).
        if symbol(1) == "(" {
          index += 1
          continue
        }
        if word(1) == "as", symbol(2) == "(" {
          defined.insert(name)
          index += 1
          continue
        }
        // `t.column`: the qualifier is a relation or its alias; the column (after the dot) is read next.
        if symbol(1) == "." {
          index += 2
          if symbol(0) == "*" { index += 1 }
          continue
        }
        // A bare name right after a finished expression is an implicit alias (`select a b`, `count(*) n`).
        if endsExpression(-1) {
          defined.insert(name)
          index += 1
          continue
        }
        if !defined.contains(name) { referenced.insert(name) }
        index += 1
      }
    }
    // A name defined anywhere (an alias in a subquery may be read before it, textually) is not claimed:
    // what this misses (`cast(x as int) as x`), the snapshot and the declared columns still cover.
    names = referenced.subtracting(defined)
  }

  enum Token: Equatable {
    /// Lowercased; quoted names keep their spelling lowercased too (drift compares case-insensitively).
    case word(String, quoted: Bool)
    case symbol(String)
    case literal
    /// A Jinja expression or statement, skipped whole.
    case template
  }

  static func tokens(_ sql: String) -> [Token] {
    var tokens: [Token] = []
    let scalars = Array(sql.unicodeScalars)
    var index = 0
    func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
      (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" || c.value > 127
    }
    func isIdentifierBody(_ c: Unicode.Scalar) -> Bool {
      isIdentifierStart(c) || (c >= "0" && c <= "9") || c == "$"
    }
    func skip(until end: [Unicode.Scalar]) {
      while index < scalars.count {
        if scalars[index] == end[0], index + end.count <= scalars.count,
          Array(scalars[index..<(index + end.count)]) == end
        {
          index += end.count
          return
        }
        index += 1
      }
    }
    while index < scalars.count {
      let c = scalars[index]
      let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
      if c == "{", next == "#" {
        index += 2
        skip(until: ["#", "}"])
      } else if c == "{", next == "{" {
        index += 2
        skip(until: ["}", "}"])
        tokens.append(.template)
      } else if c == "{", next == "%" {
        index += 2
        skip(until: ["%", "}"])
      } else if c == "-", next == "-" {
        while index < scalars.count, scalars[index] != "\n" { index += 1 }
      } else if c == "/", next == "*" {
        index += 2
        skip(until: ["*", "/"])
      } else if c == "'" {
        index = SQLScan.end(ofStringLiteralAt: index, in: scalars)
        tokens.append(.literal)
      } else if c == "\"" || c == "`" || c == "[" {
        let close: Unicode.Scalar = c == "[" ? "]" : c
        var name = ""
        index += 1
        while index < scalars.count, scalars[index] != close {
          name.unicodeScalars.append(scalars[index])
          index += 1
        }
        index += 1
        tokens.append(.word(name.lowercased(), quoted: true))
      } else if isIdentifierStart(c) {
        var word = ""
        while index < scalars.count, isIdentifierBody(scalars[index]) {
          word.unicodeScalars.append(scalars[index])
          index += 1
        }
        tokens.append(.word(word.lowercased(), quoted: false))
      } else if c >= "0" && c <= "9" {
        while index < scalars.count, isIdentifierBody(scalars[index]) || scalars[index] == "." { index += 1 }
        tokens.append(.literal)
      } else if c == ":", next == ":" {
        index += 2
        tokens.append(.symbol("::"))
      } else if c.properties.isWhitespace {
        index += 1
      } else {
        index += 1
        tokens.append(.symbol(String(c)))
      }
    }
    return tokens
  }

  /// Words that end a from list.
  static let clauseEnds: Set<String> = [
    "where", "group", "order", "having", "limit", "union", "except", "intersect", "qualify", "window",
    "select",
    "on", "using", "offset", "fetch",
  ]

  /// Words that are never column names here (SQL keywords, types, date parts in `extract`/`interval`).
  static let keywords: Set<String> = [
    "select", "from", "where", "and", "or", "not", "as", "on", "join", "left", "right", "inner", "outer",
    "full", "cross", "natural", "lateral", "group", "by", "order", "having", "limit", "offset", "union",
    "all",
    "distinct", "case", "when", "then", "else", "end", "is", "null", "in", "between", "like", "ilike",
    "similar", "escape", "with", "recursive", "materialized", "true", "false", "asc", "desc", "nulls",
    "first",
    "last", "over", "partition", "rows", "range", "groups", "preceding", "following", "unbounded", "current",
    "row", "interval", "exists", "any", "some", "using", "qualify", "window", "filter", "within", "except",
    "intersect", "values", "into", "update", "set", "insert", "delete", "top", "fetch", "next", "only",
    "ties",
    "percent", "unknown", "collate", "at", "time", "zone", "date", "timestamp", "timestamptz", "int",
    "integer", "bigint", "smallint", "numeric", "decimal", "varchar", "text", "boolean", "bool", "float",
    "double", "precision", "real", "char", "character", "varying", "string", "json", "jsonb", "uuid", "array",
    "struct", "to", "for", "of", "without", "do", "nothing", "returning", "pivot", "unpivot", "sample",
    "tablesample", "escape", "div", "mod", "xor", "regexp", "rlike", "glob", "match", "default",
    "localtime", "localtimestamp", "current_date", "current_time", "current_timestamp", "current_user",
    "session_user", "user",
  ]
}
