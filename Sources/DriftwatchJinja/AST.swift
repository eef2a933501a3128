/// A literal in the source.
enum Const: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)

  var value: Value {
    switch self {
    case .none: return .none
    case .bool(let b): return .bool(b)
    case .int(let i): return .int(i)
    case .double(let d): return .double(d)
    case .string(let s): return .string(s)
    }
  }
}

enum BinaryOp: String, Sendable {
  case add = "+"
  case sub = "-"
  case mul = "*"
  case div = "/"
  case floorDiv = "//"
  case mod = "%"
  case pow = "**"
}

enum CompareOp: String, Sendable {
  case eq = "=="
  case ne = "!="
  case lt = "<"
  case le = "<="
  case gt = ">"
  case ge = ">="
  case isIn = "in"
  case notIn = "not in"
}

struct CallArgs: Sendable {
  var positional: [Expr] = []
  var keywords: [(String, Expr)] = []
  var star: Expr?
  var doubleStar: Expr?
}

indirect enum Expr: Sendable {
  case const(Const)
  case name(String)
  case list([Expr])
  case tuple([Expr])
  case dict([(Expr, Expr)])
  case getattr(Expr, String)
  case getitem(Expr, Expr)
  case slice(Expr, Expr?, Expr?, Expr?)
  case call(Expr, CallArgs, line: Int)
  /// `value | name(args)`; value nil inside `{% filter %}` blocks.
  case filter(Expr, String, CallArgs, line: Int)
  case test(Expr, String, CallArgs, negated: Bool, line: Int)
  case neg(Expr)
  case pos(Expr)
  case not(Expr)
  case binary(BinaryOp, Expr, Expr)
  case and(Expr, Expr)
  case or(Expr, Expr)
  case compare(Expr, [(CompareOp, Expr)])
  case concat([Expr])
  case cond(test: Expr, then: Expr, otherwise: Expr?)
}

/// An assignment target: `x`, `a, b`, `ns.attr`.
indirect enum Target: Sendable {
  case name(String)
  case tuple([Target])
  case attr(String, String)
}

final class MacroDef: Sendable {
  let name: String
  let params: [(String, Expr?)]
  let body: [Node]
  let usesVarargs: Bool
  let usesKwargs: Bool
  let usesCaller: Bool
  let file: String?
  let line: Int

  init(
    name: String, params: [(String, Expr?)], body: [Node], usesVarargs: Bool, usesKwargs: Bool,
    usesCaller: Bool, file: String?, line: Int
  ) {
    self.name = name
    self.params = params
    self.body = body
    self.usesVarargs = usesVarargs
    self.usesKwargs = usesKwargs
    self.usesCaller = usesCaller
    self.file = file
    self.line = line
  }
}

struct FilterCall: Sendable {
  var name: String
  var args: CallArgs
  var line: Int
}

indirect enum Node: Sendable {
  case text(String)
  case output(Expr, line: Int)
  case ifChain([(Expr, [Node])], otherwise: [Node], line: Int)
  case forLoop(Target, iter: Expr, condition: Expr?, body: [Node], otherwise: [Node], line: Int)
  case set(Target, Expr, line: Int)
  case setBlock(Target, filters: [FilterCall], body: [Node], line: Int)
  case macro(MacroDef)
  case callBlock(Expr, caller: MacroDef, line: Int)
  case filterBlock([FilterCall], body: [Node], line: Int)
  case doExpr(Expr, line: Int)
  case with([(Target, Expr)], body: [Node], line: Int)
  case breakLoop(line: Int)
  case continueLoop(line: Int)
}
