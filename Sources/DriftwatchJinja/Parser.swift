/// Jinja2's grammar (jinja2/parser.py) over the lexer's tokens, to `Node`s with line numbers.
struct Parser {
  let tokens: [Token]
  let file: String?
  var i = 0
  /// Nesting of expressions and of blocks: deeper input is a syntax error, not a stack overflow (limits that
  /// fit a 512 KiB thread stack in debug builds, parsing and rendering).
  var nesting = 0
  var blockNesting = 0
  static let maxNesting = 100
  static let maxBlockNesting = 40

  mutating func enter() throws {
    nesting += 1
    if nesting > Parser.maxNesting {
      throw fail("expression nested too deeply (more than \(Parser.maxNesting) levels)")
    }
  }

  init(tokens: [Token], file: String?) {
    self.tokens = tokens
    self.file = file
  }

  var current: Token { tokens[i] }
  var line: Int { tokens[i].line }

  func peek(_ k: Int = 1) -> Token { tokens[min(i + k, tokens.count - 1)] }

  func fail(_ message: String, line: Int? = nil, construct: String? = nil) -> JinjaError {
    JinjaError(.syntax, message, file: file, line: line ?? self.line, construct: construct)
  }

  func describe(_ t: Tok) -> String {
    switch t {
    case .data: return "template data"
    case .varBegin: return "'{{'"
    case .varEnd: return "end of print statement"
    case .blockBegin: return "'{%'"
    case .blockEnd: return "end of statement block"
    case .name(let n): return "'\(n)'"
    case .int(let v): return "'\(v)'"
    case .double(let v): return "'\(v)'"
    case .string(let s): return "string \(pythonStringRepr(s))"
    case .op(let o): return "'\(o)'"
    case .eof: return "end of template"
    }
  }

  mutating func advance() { if i < tokens.count - 1 { i += 1 } }

  func isOp(_ o: String) -> Bool {
    if case .op(let x) = current.kind { return x == o }
    return false
  }

  func isName(_ n: String) -> Bool {
    if case .name(let x) = current.kind { return x == n }
    return false
  }

  mutating func skipOp(_ o: String) -> Bool {
    if isOp(o) {
      advance()
      return true
    }
    return false
  }

  mutating func skipName(_ n: String) -> Bool {
    if isName(n) {
      advance()
      return true
    }
    return false
  }

  mutating func expectOp(_ o: String) throws {
    guard skipOp(o) else { throw fail("expected '\(o)', got \(describe(current.kind))") }
  }

  mutating func expectName() throws -> String {
    guard case .name(let n) = current.kind else {
      throw fail("expected a name, got \(describe(current.kind))")
    }
    advance()
    return n
  }

  mutating func expectBlockEnd(_ tag: String) throws {
    // Jinja skips one colon before the end of a statement's header, for Python compatibility.
    if isOp(":"), case .blockEnd = peek().kind { advance() }
    guard case .blockEnd = current.kind else {
      throw fail("expected end of statement block, got \(describe(current.kind))", construct: "{% \(tag) %}")
    }
    advance()
  }

  // MARK: statements

  mutating func parseTemplate() throws -> [Node] {
    let (body, end) = try parseBody(until: [])
    if let end { throw fail("unexpected '\(end)'") }
    return body
  }

  static let blockEnds: Set<String> = [
    "endif", "endfor", "endset", "endmacro", "endcall", "endfilter", "endwith", "endraw", "endtest",
    "endmaterialization", "enddocs", "endsnapshot", "else", "elif",
  ]

  /// Statements up to one of `ends` (returned, with the tag's tokens after the name unread).
  mutating func parseBody(until ends: Set<String>) throws -> ([Node], String?) {
    blockNesting += 1
    defer { blockNesting -= 1 }
    if blockNesting > Parser.maxBlockNesting {
      throw fail("blocks nested too deeply (more than \(Parser.maxBlockNesting) levels)")
    }
    var nodes: [Node] = []
    while true {
      switch current.kind {
      case .eof:
        if !ends.isEmpty {
          let expected = ends.sorted().map { "'\($0)'" }.joined(separator: " or ")
          throw fail("unexpected end of template, expected \(expected)")
        }
        return (nodes, nil)
      case .data(let text):
        nodes.append(.text(text))
        advance()
      case .varBegin:
        let l = line
        advance()
        let e = try parseTuple()
        guard case .varEnd = current.kind else {
          throw fail("expected end of print statement, got \(describe(current.kind))")
        }
        advance()
        nodes.append(.output(e, line: l))
      case .blockBegin:
        if let end = try parseTag(ends, into: &nodes) { return (nodes, end) }
      default:
        throw fail("unexpected \(describe(current.kind))")
      }
    }
  }

  /// One `{% tag … %}`: a statement appended to `nodes`, or the end tag that closes the body (returned).
  mutating func parseTag(_ ends: Set<String>, into nodes: inout [Node]) throws -> String? {
    advance()
    let l = line
    guard case .name(let tag) = current.kind else {
      throw fail("tag name expected, got \(describe(current.kind))")
    }
    if ends.contains(tag) {
      advance()
      return tag
    }
    if Parser.blockEnds.contains(tag) {
      throw fail("encountered unknown tag '\(tag)'", line: l, construct: "{% \(tag) %}")
    }
    advance()
    if let node = try parseStatement(tag, line: l) { nodes.append(node) }
    return nil
  }

  mutating func parseStatement(_ tag: String, line l: Int) throws -> Node? {
    switch tag {
    case "if": return try parseIf(line: l)
    case "for": return try parseFor(line: l)
    case "set": return try parseSet(line: l)
    case "macro": return .macro(try parseMacroDef(name: try expectName(), endTag: "endmacro", line: l))
    // dbt: `{% test name(args) %}` defines the macro `test_name`.
    case "test":
      return .macro(try parseMacroDef(name: "test_" + (try expectName()), endTag: "endtest", line: l))
    case "materialization": return try parseMaterialization(line: l)
    case "docs": return try parseDocs()
    case "snapshot":
      // dbt extracts `{% snapshot name %}…{% endsnapshot %}` before rendering the body: render the body.
      _ = try expectName()
      try expectBlockEnd("snapshot")
      let (body, _) = try parseBody(until: ["endsnapshot"])
      try expectBlockEnd("endsnapshot")
      return .with([], body: body, line: l)
    case "call": return try parseCallBlock(line: l)
    case "filter": return try parseFilterBlock(line: l)
    case "do": return try parseDo(line: l)
    case "with": return try parseWith(line: l)
    case "break":
      try expectBlockEnd("break")
      return .breakLoop(line: l)
    case "continue":
      try expectBlockEnd("continue")
      return .continueLoop(line: l)
    default:
      throw JinjaError(
        .unsupported, "the '\(tag)' tag is not supported", file: file, line: l, construct: "{% \(tag) %}")
    }
  }

  /// dbt: `{% materialization name[, default][, adapter='x'][, supported_languages=[…]] %}` is the macro
  /// `materialization_name_x` with the parameter `supported_languages` (default `['sql']`).
  mutating func parseMaterialization(line l: Int) throws -> Node {
    let name = try expectName()
    var adapter = "default"
    var languages: Expr = .list([.const(.string("sql"))])
    while skipOp(",") {
      let key = try expectName()
      switch key {
      case "default": continue
      case "adapter":
        try expectOp("=")
        guard case .const(.string(let s)) = try parseExpression() else {
          throw fail("the adapter of a materialization must be a string", construct: "{% materialization %}")
        }
        adapter = s
      case "supported_languages":
        try expectOp("=")
        languages = try parseExpression()
      default:
        throw fail("unexpected '\(key)' in materialization", construct: "{% materialization %}")
      }
    }
    try expectBlockEnd("materialization")
    let (body, _) = try parseBody(until: ["endmaterialization"])
    try expectBlockEnd("endmaterialization")
    var uses = Set<String>()
    NameScan.scan(body, into: &uses)
    return .macro(
      MacroDef(
        name: "materialization_\(name)_\(adapter)", params: [("supported_languages", languages)], body: body,
        usesVarargs: uses.contains("varargs"), usesKwargs: uses.contains("kwargs"),
        usesCaller: uses.contains("caller"), file: file, line: l))
  }

  /// dbt docs blocks render nothing in SQL.
  mutating func parseDocs() throws -> Node? {
    while true {
      if case .blockEnd = current.kind { break }
      if case .eof = current.kind { break }
      advance()
    }
    try expectBlockEnd("docs")
    _ = try parseBody(until: ["enddocs"])
    try expectBlockEnd("enddocs")
    return nil
  }

  mutating func parseFilterBlock(line l: Int) throws -> Node {
    let filters = try parseFilterChain(required: true)
    try expectBlockEnd("filter")
    let (body, _) = try parseBody(until: ["endfilter"])
    try expectBlockEnd("endfilter")
    return .filterBlock(filters, body: body, line: l)
  }

  mutating func parseDo(line l: Int) throws -> Node {
    let e = try parseTuple()
    try expectBlockEnd("do")
    return .doExpr(e, line: l)
  }

  mutating func parseWith(line l: Int) throws -> Node {
    var assignments: [(Target, Expr)] = []
    while true {
      if case .blockEnd = current.kind { break }
      if !assignments.isEmpty { try expectOp(",") }
      let target = try parseAssignTarget(withNamespace: false)
      try expectOp("=")
      assignments.append((target, try parseExpression()))
    }
    try expectBlockEnd("with")
    let (body, _) = try parseBody(until: ["endwith"])
    try expectBlockEnd("endwith")
    return .with(assignments, body: body, line: l)
  }

  mutating func parseIf(line l: Int) throws -> Node {
    var branches: [(Expr, [Node])] = []
    var otherwise: [Node] = []
    var condition = try parseTuple(withCondexpr: false)
    while true {
      try expectBlockEnd("if")
      let (body, end) = try parseBody(until: ["elif", "else", "endif"])
      branches.append((condition, body))
      if end == "elif" {
        condition = try parseTuple(withCondexpr: false)
        continue
      }
      if end == "else" {
        try expectBlockEnd("else")
        let (elseBody, _) = try parseBody(until: ["endif"])
        otherwise = elseBody
      }
      try expectBlockEnd("endif")
      break
    }
    return .ifChain(branches, otherwise: otherwise, line: l)
  }

  mutating func parseFor(line l: Int) throws -> Node {
    let target = try parseAssignTarget(withNamespace: false, endNames: ["in"])
    guard skipName("in") else {
      throw fail("expected 'in', got \(describe(current.kind))", construct: "{% for %}")
    }
    let iter = try parseTuple(withCondexpr: false, endNames: ["recursive", "if"])
    var condition: Expr?
    if skipName("if") { condition = try parseExpression() }
    if isName("recursive") {
      throw JinjaError(
        .unsupported, "recursive for loops are not supported", file: file, line: l, construct: "{% for %}")
    }
    try expectBlockEnd("for")
    let (body, end) = try parseBody(until: ["endfor", "else"])
    var otherwise: [Node] = []
    if end == "else" {
      try expectBlockEnd("else")
      otherwise = try parseBody(until: ["endfor"]).0
    }
    try expectBlockEnd("endfor")
    return .forLoop(target, iter: iter, condition: condition, body: body, otherwise: otherwise, line: l)
  }

  mutating func parseSet(line l: Int) throws -> Node {
    let target = try parseAssignTarget(withNamespace: true)
    if skipOp("=") {
      let e = try parseTuple()
      try expectBlockEnd("set")
      return .set(target, e, line: l)
    }
    let filters = try parseFilterChain(required: false)
    try expectBlockEnd("set")
    let (body, _) = try parseBody(until: ["endset"])
    try expectBlockEnd("endset")
    return .setBlock(target, filters: filters, body: body, line: l)
  }

  mutating func parseFilterChain(required: Bool) throws -> [FilterCall] {
    var filters: [FilterCall] = []
    var first = required
    while first || isOp("|") {
      if !first { advance() }
      first = false
      let l = line
      var name = try expectName()
      while isOp("."), case .name(let more) = peek().kind {
        advance()
        advance()
        name += "." + more
      }
      var args = CallArgs()
      if isOp("(") { args = try parseCallArgs() }
      filters.append(FilterCall(name: name, args: args, line: l))
    }
    return filters
  }

  mutating func parseParams(construct: String) throws -> [(String, Expr?)] {
    var params: [(String, Expr?)] = []
    try expectOp("(")
    while !isOp(")") {
      if !params.isEmpty { try expectOp(",") }
      if isOp(")") { break }
      let name = try expectName()
      var def: Expr?
      if skipOp("=") {
        def = try parseExpression()
      } else if params.last?.1 != nil {
        throw fail("non-default argument follows default argument", construct: construct)
      }
      params.append((name, def))
    }
    try expectOp(")")
    return params
  }

  mutating func parseMacroDef(name: String, endTag: String, line l: Int) throws -> MacroDef {
    let params = try parseParams(construct: "{% macro \(name) %}")
    try expectBlockEnd("macro")
    let (body, _) = try parseBody(until: [endTag])
    if case .name = current.kind { advance() }  // `{% endmacro name %}` is tolerated
    try expectBlockEnd(endTag)
    var uses = Set<String>()
    NameScan.scan(body, into: &uses)
    return MacroDef(
      name: name, params: params, body: body, usesVarargs: uses.contains("varargs"),
      usesKwargs: uses.contains("kwargs"), usesCaller: uses.contains("caller"), file: file, line: l)
  }

  mutating func parseCallBlock(line l: Int) throws -> Node {
    var params: [(String, Expr?)] = []
    if isOp("(") { params = try parseParams(construct: "{% call %}") }
    let e = try parseExpression()
    guard case .call = e else { throw fail("expected call", construct: "{% call %}") }
    try expectBlockEnd("call")
    let (body, _) = try parseBody(until: ["endcall"])
    try expectBlockEnd("endcall")
    var uses = Set<String>()
    NameScan.scan(body, into: &uses)
    let caller = MacroDef(
      name: "caller", params: params, body: body, usesVarargs: uses.contains("varargs"),
      usesKwargs: uses.contains("kwargs"), usesCaller: uses.contains("caller"), file: file, line: l)
    return .callBlock(e, caller: caller, line: l)
  }

  /// `x`, `a, b`, `(a, (b, c))`, and with `withNamespace` `ns.attr`.
  mutating func parseAssignTarget(withNamespace: Bool, endNames: Set<String> = []) throws -> Target {
    if withNamespace, case .name(let ns) = current.kind, case .op(".") = peek().kind {
      advance()
      advance()
      let attr = try expectName()
      return .attr(ns, attr)
    }
    var items: [Target] = []
    var isTuple = false
    while true {
      if !items.isEmpty {
        guard skipOp(",") else { break }
        isTuple = true
      }
      if case .name(let n) = current.kind, endNames.contains(n) { break }
      if case .blockEnd = current.kind { break }
      if isOp("=") { break }
      items.append(try parseSingleTarget())
    }
    guard let first = items.first else { throw fail("expected an assignment target") }
    return isTuple ? .tuple(items) : first
  }

  mutating func parseSingleTarget() throws -> Target {
    if skipOp("(") {
      var items: [Target] = []
      while !isOp(")") {
        if !items.isEmpty { try expectOp(",") }
        if isOp(")") { break }
        items.append(try parseSingleTarget())
      }
      try expectOp(")")
      return .tuple(items)
    }
    let n = try expectName()
    if ["true", "false", "none", "True", "False", "None"].contains(n) {
      throw fail("can't assign to '\(n)'")
    }
    return .name(n)
  }

  // MARK: expressions

  func isTupleEnd(_ endNames: Set<String>) -> Bool {
    switch current.kind {
    case .varEnd, .blockEnd, .eof: return true
    case .op(let o): return o == ")" || o == "]" || o == "}" || o == "="
    case .name(let n): return endNames.contains(n)
    default: return false
    }
  }

  mutating func parseTuple(
    withCondexpr: Bool = true, endNames: Set<String> = [], explicitParens: Bool = false
  )
    throws -> Expr
  {
    var args: [Expr] = []
    var isTuple = false
    while true {
      if !args.isEmpty { try expectOp(",") }
      if isTupleEnd(endNames) { break }
      args.append(withCondexpr ? try parseExpression() : try parseOr())
      if isOp(",") { isTuple = true } else { break }
    }
    if !isTuple {
      if let first = args.first { return first }
      if !explicitParens { throw fail("expected an expression, got \(describe(current.kind))") }
    }
    return .tuple(args)
  }

  mutating func parseExpression() throws -> Expr {
    try enter()
    defer { nesting -= 1 }
    var e = try parseOr()
    while skipName("if") {
      let test = try parseOr()
      var otherwise: Expr?
      if skipName("else") { otherwise = try parseExpression() }
      e = .cond(test: test, then: e, otherwise: otherwise)
    }
    return e
  }

  mutating func parseOr() throws -> Expr {
    var left = try parseAnd()
    while skipName("or") { left = .or(left, try parseAnd()) }
    return left
  }

  mutating func parseAnd() throws -> Expr {
    var left = try parseNot()
    while skipName("and") { left = .and(left, try parseNot()) }
    return left
  }

  mutating func parseNot() throws -> Expr {
    if skipName("not") {
      try enter()
      defer { nesting -= 1 }
      return .not(try parseNot())
    }
    return try parseCompare()
  }

  mutating func parseCompare() throws -> Expr {
    let left = try parseMath1()
    var ops: [(CompareOp, Expr)] = []
    while true {
      if case .op(let o) = current.kind, let op = CompareOp(rawValue: o), op != .isIn, op != .notIn {
        advance()
        ops.append((op, try parseMath1()))
      } else if skipName("in") {
        ops.append((.isIn, try parseMath1()))
      } else if isName("not"), case .name("in") = peek().kind {
        advance()
        advance()
        ops.append((.notIn, try parseMath1()))
      } else {
        break
      }
    }
    return ops.isEmpty ? left : .compare(left, ops)
  }

  mutating func parseMath1() throws -> Expr {
    var left = try parseConcat()
    while true {
      if skipOp("+") {
        left = .binary(.add, left, try parseConcat())
      } else if skipOp("-") {
        left = .binary(.sub, left, try parseConcat())
      } else {
        return left
      }
    }
  }

  mutating func parseConcat() throws -> Expr {
    var items = [try parseMath2()]
    while skipOp("~") { items.append(try parseMath2()) }
    return items.count == 1 ? items[0] : .concat(items)
  }

  mutating func parseMath2() throws -> Expr {
    var left = try parsePow()
    while true {
      if case .op(let o) = current.kind, o == "*" || o == "/" || o == "//" || o == "%",
        let op = BinaryOp(rawValue: o)
      {
        advance()
        left = .binary(op, left, try parsePow())
      } else {
        return left
      }
    }
  }

  mutating func parsePow() throws -> Expr {
    var left = try parseUnary()
    while skipOp("**") { left = .binary(.pow, left, try parseUnary()) }
    return left
  }

  mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
    try enter()
    defer { nesting -= 1 }
    var node: Expr
    if skipOp("-") {
      node = .neg(try parseUnary(withFilter: false))
    } else if skipOp("+") {
      node = .pos(try parseUnary(withFilter: false))
    } else {
      node = try parsePrimary()
    }
    node = try parsePostfix(node)
    if withFilter { node = try parseFilterExpr(node) }
    return node
  }

  mutating func parsePrimary() throws -> Expr {
    let t = current
    switch t.kind {
    case .name(let n):
      advance()
      switch n {
      case "true", "True": return .const(.bool(true))
      case "false", "False": return .const(.bool(false))
      case "none", "None": return .const(.none)
      default: return .name(n)
      }
    case .string(var s):
      advance()
      while case .string(let more) = current.kind {
        s += more
        advance()
      }
      return .const(.string(s))
    case .int(let v):
      advance()
      return .const(.int(v))
    case .double(let v):
      advance()
      return .const(.double(v))
    case .op("("):
      advance()
      let e = try parseTuple(explicitParens: true)
      try expectOp(")")
      return e
    case .op("["):
      advance()
      var items: [Expr] = []
      while !isOp("]") {
        if !items.isEmpty { try expectOp(",") }
        if isOp("]") { break }
        items.append(try parseExpression())
      }
      try expectOp("]")
      return .list(items)
    case .op("{"):
      advance()
      var items: [(Expr, Expr)] = []
      while !isOp("}") {
        if !items.isEmpty { try expectOp(",") }
        if isOp("}") { break }
        let key = try parseExpression()
        try expectOp(":")
        items.append((key, try parseExpression()))
      }
      try expectOp("}")
      return .dict(items)
    default:
      throw fail("unexpected \(describe(t.kind))")
    }
  }

  mutating func parsePostfix(_ start: Expr) throws -> Expr {
    var node = start
    while true {
      if isOp(".") {
        advance()
        switch current.kind {
        case .name(let n):
          advance()
          node = .getattr(node, n)
        case .int(let v):
          advance()
          node = .getitem(node, .const(.int(v)))
        default: throw fail("expected name or number after '.'")
        }
      } else if isOp("[") {
        advance()
        var args: [Expr] = []
        while !isOp("]") {
          if !args.isEmpty { try expectOp(",") }
          args.append(try parseSubscribed(node))
        }
        try expectOp("]")
        if args.count == 1, case .slice = args[0] {
          node = args[0]
        } else {
          node = .getitem(node, args.count == 1 ? args[0] : .tuple(args))
        }
      } else if isOp("(") {
        let l = line
        let args = try parseCallArgs()
        node = .call(node, args, line: l)
      } else {
        return node
      }
    }
  }

  /// One subscript: an expression or a slice `a:b:c` (returned as `.slice` over `base`).
  mutating func parseSubscribed(_ base: Expr) throws -> Expr {
    var start: Expr?
    if !isOp(":") {
      let e = try parseExpression()
      if !isOp(":") { return e }
      start = e
    }
    try expectOp(":")
    var stop: Expr?
    var step: Expr?
    if !isOp("]") && !isOp(",") && !isOp(":") { stop = try parseExpression() }
    if skipOp(":") {
      if !isOp("]") && !isOp(",") { step = try parseExpression() }
    }
    return .slice(base, start, stop, step)
  }

  mutating func parseCallArgs() throws -> CallArgs {
    try expectOp("(")
    var args = CallArgs()
    var first = true
    while !isOp(")") {
      if !first { try expectOp(",") }
      first = false
      if isOp(")") { break }
      if skipOp("**") {
        args.doubleStar = try parseExpression()
      } else if skipOp("*") {
        args.star = try parseExpression()
      } else if case .name(let n) = current.kind, case .op("=") = peek().kind {
        advance()
        advance()
        args.keywords.append((n, try parseExpression()))
      } else {
        if !args.keywords.isEmpty { throw fail("positional argument follows keyword argument") }
        args.positional.append(try parseExpression())
      }
    }
    try expectOp(")")
    return args
  }

  mutating func parseFilterExpr(_ start: Expr) throws -> Expr {
    var node = start
    while true {
      if isOp("|") {
        for f in try parseFilterChain(required: false) {
          node = .filter(node, f.name, f.args, line: f.line)
        }
      } else if isName("is") {
        let l = line
        advance()
        let negated = skipName("not")
        var name = try expectName()
        while isOp("."), case .name(let more) = peek().kind {
          advance()
          advance()
          name += "." + more
        }
        var args = CallArgs()
        if isOp("(") {
          args = try parseCallArgs()
        } else {
          var startsArgument = false
          switch current.kind {
          case .string, .int, .double, .op("["), .op("{"): startsArgument = true
          case .name(let n): startsArgument = !["else", "or", "and"].contains(n)
          default: break
          }
          if startsArgument {
            if isName("is") { throw fail("you cannot chain multiple tests with is") }
            args.positional = [try parsePostfix(try parsePrimary())]
          }
        }
        node = .test(node, name, args, negated: negated, line: l)
      } else if isOp("(") {
        let l = line
        node = .call(node, try parseCallArgs(), line: l)
      } else {
        return node
      }
    }
  }
}

/// Which of `varargs`, `kwargs`, `caller` a macro body reads.
enum NameScan {
  static let interesting: Set<String> = ["varargs", "kwargs", "caller"]

  static func scan(_ nodes: [Node], into names: inout Set<String>) {
    for node in nodes { scan(node, into: &names) }
  }

  static func scan(_ node: Node, into names: inout Set<String>) {
    switch node {
    case .text, .breakLoop, .continueLoop: break
    case .output(let e, _), .doExpr(let e, _), .set(_, let e, _): scan(e, into: &names)
    case .ifChain(let branches, let otherwise, _):
      for (c, body) in branches {
        scan(c, into: &names)
        scan(body, into: &names)
      }
      scan(otherwise, into: &names)
    case .forLoop(_, let iter, let cond, let body, let otherwise, _):
      scan(iter, into: &names)
      if let cond { scan(cond, into: &names) }
      scan(body, into: &names)
      scan(otherwise, into: &names)
    case .setBlock(_, let filters, let body, _), .filterBlock(let filters, let body, _):
      for f in filters { scan(f.args, into: &names) }
      scan(body, into: &names)
    case .macro: break
    case .callBlock(let e, let caller, _):
      scan(e, into: &names)
      for (_, d) in caller.params { if let d { scan(d, into: &names) } }
      scan(caller.body, into: &names)
    case .with(let assignments, let body, _):
      for (_, e) in assignments { scan(e, into: &names) }
      scan(body, into: &names)
    }
  }

  static func scan(_ args: CallArgs, into names: inout Set<String>) {
    for e in args.positional { scan(e, into: &names) }
    for (_, e) in args.keywords { scan(e, into: &names) }
    if let e = args.star { scan(e, into: &names) }
    if let e = args.doubleStar { scan(e, into: &names) }
  }

  static func scan(_ e: Expr, into names: inout Set<String>) {
    switch e {
    case .const: break
    case .name(let n): if interesting.contains(n) { names.insert(n) }
    case .list(let items), .tuple(let items), .concat(let items): for x in items { scan(x, into: &names) }
    case .dict(let pairs):
      for (k, v) in pairs {
        scan(k, into: &names)
        scan(v, into: &names)
      }
    case .getattr(let x, _), .neg(let x), .pos(let x), .not(let x): scan(x, into: &names)
    case .getitem(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
      scan(a, into: &names)
      scan(b, into: &names)
    case .slice(let a, let b, let c, let d):
      scan(a, into: &names)
      for x in [b, c, d] { if let x { scan(x, into: &names) } }
    case .call(let f, let args, _):
      scan(f, into: &names)
      scan(args, into: &names)
    case .filter(let x, _, let args, _), .test(let x, _, let args, _, _):
      scan(x, into: &names)
      scan(args, into: &names)
    case .compare(let x, let ops):
      scan(x, into: &names)
      for (_, y) in ops { scan(y, into: &names) }
    case .cond(let t, let a, let b):
      scan(t, into: &names)
      scan(a, into: &names)
      if let b { scan(b, into: &names) }
    }
  }
}
