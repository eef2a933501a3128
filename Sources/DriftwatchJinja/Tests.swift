/// Jinja2's built-in tests (jinja2/tests.py). A test not here is an `.unsupported` error.
enum Tests {
  static func apply(_ name: String, _ value: Value, _ args: Arguments, renderer: Renderer) throws -> Bool {
    let other = args.positional.first
    func needOther() throws -> Value {
      guard let other else { throw JinjaError(.type, "test '\(name)' needs an argument") }
      return other
    }
    switch name {
    case "defined": return !value.isUndefined
    case "undefined": return value.isUndefined
    case "none": return value.isNone
    case "string":
      if case .string = value { return true }
      return false
    case "number":
      switch value {
      case .int, .double, .bool: return true
      default: return false
      }
    case "integer":
      if case .int = value { return true }
      return false
    case "float":
      if case .double = value { return true }
      return false
    case "boolean":
      if case .bool = value { return true }
      return false
    case "true":
      if case .bool(true) = value { return true }
      return false
    case "false":
      if case .bool(false) = value { return true }
      return false
    case "mapping":
      if case .dict = value { return true }
      if case .object(let o) = value { return o is MappingObject }
      return false
    case "iterable":
      switch value {
      case .string, .list, .tuple, .dict, .undefined: return true
      case .object(let o): return o is IterableObject
      default: return false
      }
    case "sequence":
      switch value {
      case .string, .list, .tuple, .dict: return true
      case .object(let o): return o is IterableObject
      default: return false
      }
    case "callable":
      switch value {
      case .function, .undefined: return true
      case .object(let o): return o is CallableObject
      default: return false
      }
    case "sameas":
      let o = try needOther()
      switch (value, o) {
      case (.list(let a), .list(let b)): return a === b
      case (.dict(let a), .dict(let b)): return a === b
      case (.function(let a), .function(let b)): return a === b
      case (.object(let a), .object(let b)): return a === b
      case (.none, .none), (.undefined, .undefined): return true
      case (.bool(let a), .bool(let b)): return a == b
      case (.int(let a), .int(let b)): return a == b && a >= -5 && a <= 256
      case (.string(let a), .string(let b)): return a == b
      default: return false
      }
    case "eq", "equalto", "==": return Operators.equal(value, try needOther())
    case "ne", "!=": return !Operators.equal(value, try needOther())
    case "lt", "lessthan", "<": return try Operators.less(value, try needOther())
    case "le", "<=": return try Operators.compare(.le, value, try needOther())
    case "gt", "greaterthan", ">": return try Operators.less(try needOther(), value)
    case "ge", ">=": return try Operators.compare(.ge, value, try needOther())
    case "in": return try Operators.contains(try needOther(), value)
    case "divisibleby":
      guard let a = Operators.number(value), let b = Operators.number(try needOther()) else {
        throw JinjaError(.type, "divisibleby needs numbers")
      }
      if case .int(let i) = a, case .int(let j) = b {
        if j == 0 { throw JinjaError(.value, "integer division or modulo by zero") }
        return i % j == 0
      }
      if b.double == 0 { throw JinjaError(.value, "float modulo") }
      return Operators.pyMod(a.double, b.double) == 0
    case "odd", "even":
      guard let i = Operators.intValue(value) else {
        if case .double(let d) = value { return (Operators.pyMod(d, 2) == 1) == (name == "odd") }
        throw JinjaError(.type, "\(name) needs an integer")
      }
      return (Operators.pyMod(i, 2) == 1) == (name == "odd")
    case "lower":
      let s = value.str
      return s.lowercased() == s && s.unicodeScalars.contains { $0.properties.isCased }
    case "upper":
      let s = value.str
      return s.uppercased() == s && s.unicodeScalars.contains { $0.properties.isCased }
    case "escaped": return false
    case "filter":
      guard case .string(let f) = value else { return false }
      return Filters.known.contains(f) || renderer.environment.filters[f] != nil
    case "test":
      guard case .string(let t) = value else { return false }
      return known.contains(t) || renderer.environment.tests[t] != nil
    default:
      throw JinjaError(.unsupported, "the test '\(name)' is not supported")
    }
  }

  static let known: Set<String> = [
    "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false",
    "mapping",
    "iterable", "sequence", "callable", "sameas", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<",
    "le",
    "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "divisibleby", "odd", "even", "lower", "upper",
    "escaped",
    "filter", "test",
  ]
}

extension Filters {
  static let known: Set<String> = [
    "default", "d", "lower", "upper", "trim", "replace", "join", "length", "count", "list", "first", "last",
    "unique", "sort", "reverse", "map", "select", "reject", "selectattr", "rejectattr", "int", "float",
    "string",
    "tojson", "indent", "capitalize", "title", "wordcount", "batch", "abs", "round", "sum", "min", "max",
    "items",
    "dictsort", "escape", "e", "forceescape", "safe", "as_text", "as_bool", "as_native", "as_number",
    "is_list",
    "striptags", "format", "center", "attr", "groupby", "truncate",
  ]
}
