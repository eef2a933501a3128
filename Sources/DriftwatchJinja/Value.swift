/// A Jinja value, with Python's data model: lists and dicts are shared references (a macro's `append`
/// changes the caller's list), tuples and strings are values.
public enum Value {
  /// An undefined name or attribute; the name, when known, is kept for messages. dbt's parse-time
  /// `Undefined`: attributes, items and calls on it give undefined again, rendering it gives ''.
  case undefined(String?)
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list(ListRef)
  case tuple([Value])
  case dict(DictRef)
  case function(Function)
  case object(any JinjaObject)

  public static func list(_ items: [Value]) -> Value { .list(ListRef(items)) }
  public static func dict(_ pairs: [(String, Value)]) -> Value {
    let dict = DictRef()
    for (key, value) in pairs { dict.set(.string(key), value) }
    return .dict(dict)
  }

  public var isUndefined: Bool {
    if case .undefined = self { return true }
    return false
  }

  public var isNone: Bool {
    if case .none = self { return true }
    return false
  }

  /// Python truthiness.
  public var truthy: Bool {
    switch self {
    case .undefined, .none: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .double(let d): return d != 0
    case .string(let s): return !s.isEmpty
    case .list(let l): return !l.items.isEmpty
    case .tuple(let t): return !t.isEmpty
    case .dict(let d): return d.count > 0
    case .function: return true
    case .object(let o): return o.truthy
    }
  }

  /// The string a Swift caller usually wants (`str()`), or nil for non-strings.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The Python type name, for messages.
  public var typeName: String {
    switch self {
    case .undefined: return "undefined"
    case .none: return "NoneType"
    case .bool: return "bool"
    case .int: return "int"
    case .double: return "float"
    case .string: return "str"
    case .list: return "list"
    case .tuple: return "tuple"
    case .dict: return "dict"
    case .function: return "function"
    case .object(let o): return o.typeName
    }
  }

  /// Python `str()`: what `{{ value }}` renders.
  public var str: String {
    switch self {
    case .undefined: return ""
    case .string(let s): return s
    case .object(let o): return o.rendered
    default: return repr
    }
  }

  /// Python `repr()`.
  public var repr: String {
    var out = ""
    writeRepr(into: &out)
    return out
  }

  func writeRepr(into out: inout String) {
    switch self {
    case .undefined: out += "Undefined"
    case .none: out += "None"
    case .bool(let b): out += b ? "True" : "False"
    case .int(let i): out += String(i)
    case .double(let d): out += pythonFloat(d)
    case .string(let s): out += pythonStringRepr(s)
    case .list(let l):
      out += "["
      for (i, item) in l.items.enumerated() {
        if i > 0 { out += ", " }
        item.writeRepr(into: &out)
      }
      out += "]"
    case .tuple(let t):
      out += "("
      for (i, item) in t.enumerated() {
        if i > 0 { out += ", " }
        item.writeRepr(into: &out)
      }
      out += t.count == 1 ? ",)" : ")"
    case .dict(let d):
      out += "{"
      for (i, entry) in d.entries.enumerated() {
        if i > 0 { out += ", " }
        entry.key.writeRepr(into: &out)
        out += ": "
        entry.value.writeRepr(into: &out)
      }
      out += "}"
    case .function(let f): out += "<function \(f.name)>"
    case .object(let o): out += o.reprText
    }
  }
}

/// Python's `repr(float)`.
func pythonFloat(_ d: Double) -> String {
  if d.isNaN { return "nan" }
  if d.isInfinite { return d < 0 ? "-inf" : "inf" }
  var text = d.description
  // Swift writes 1e+16 as "1e+16" like Python; Python keeps small exponents with two digits.
  if let e = text.firstIndex(of: "e") {
    let mantissa = text[..<e]
    var exponent = String(text[text.index(after: e)...])
    var sign = "+"
    if exponent.hasPrefix("-") {
      sign = "-"
      exponent.removeFirst()
    } else if exponent.hasPrefix("+") {
      exponent.removeFirst()
    }
    if exponent.count < 2 { exponent = "0" + exponent }
    var m = String(mantissa)
    if m.hasSuffix(".0") { m.removeLast(2) }
    text = m + "e" + sign + exponent
  }
  return text
}

/// Python's `repr(str)`: single quotes unless the text has a single quote and no double quote.
func pythonStringRepr(_ s: String) -> String {
  let useDouble = s.contains("'") && !s.contains("\"")
  let quote: Character = useDouble ? "\"" : "'"
  var out = String(quote)
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case "'" where !useDouble: out += "\\'"
    default:
      if scalar.value < 0x20 || scalar.value == 0x7f {
        out += "\\x" + hex(scalar.value, width: 2)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  out.append(quote)
  return out
}

func hex(_ value: UInt32, width: Int) -> String {
  let digits = String(value, radix: 16)
  return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// A Python list: shared and mutable.
public final class ListRef {
  public var items: [Value]
  public init(_ items: [Value] = []) { self.items = items }
}

/// A hashable view of a dict key, with Python's equalities (`1 == 1.0 == True`).
enum DictKey: Hashable {
  case none
  case int(Int)
  case double(Double)
  case string(String)
  case tuple([DictKey])
  case identity(ObjectIdentifier)

  init(_ value: Value) throws {
    switch value {
    case .none, .undefined: self = .none
    case .bool(let b): self = .int(b ? 1 : 0)
    case .int(let i): self = .int(i)
    case .double(let d):
      if d.rounded() == d, let i = Int(exactly: d) { self = .int(i) } else { self = .double(d) }
    case .string(let s): self = .string(s)
    case .tuple(let t): self = .tuple(try t.map { try DictKey($0) })
    case .function(let f): self = .identity(ObjectIdentifier(f))
    case .object(let o): self = .identity(ObjectIdentifier(o))
    case .list, .dict: throw JinjaError(.type, "unhashable type: '\(value.typeName)'")
    }
  }
}

/// A Python dict: insertion-ordered, shared and mutable.
public final class DictRef {
  public private(set) var entries: [(key: Value, value: Value)] = []
  private var index: [DictKey: Int] = [:]

  public init() {}

  public var count: Int { entries.count }

  public func get(_ key: Value) -> Value? {
    guard let k = try? DictKey(key), let i = index[k] else { return nil }
    return entries[i].value
  }

  public func get(_ key: String) -> Value? {
    guard let i = index[.string(key)] else { return nil }
    return entries[i].value
  }

  func contains(_ key: Value) throws -> Bool { index[try DictKey(key)] != nil }

  public func set(_ key: Value, _ value: Value) {
    guard let k = try? DictKey(key) else { return }
    if let i = index[k] {
      entries[i].value = value
    } else {
      index[k] = entries.count
      entries.append((key, value))
    }
  }

  func setChecked(_ key: Value, _ value: Value) throws {
    _ = try DictKey(key)
    set(key, value)
  }

  @discardableResult
  func remove(_ key: Value) throws -> Value? {
    guard let i = index[try DictKey(key)] else { return nil }
    let value = entries[i].value
    entries.remove(at: i)
    index = [:]
    for (n, entry) in entries.enumerated() {
      if let k = try? DictKey(entry.key) { index[k] = n }
    }
    return value
  }

  func removeAll() {
    entries = []
    index = [:]
  }

  func copy() -> DictRef {
    let d = DictRef()
    d.entries = entries
    d.index = index
    return d
  }
}

/// Call arguments: positional, then keyword in call order.
public struct Arguments {
  public var positional: [Value]
  public var keywords: [(String, Value)]

  public init(_ positional: [Value] = [], keywords: [(String, Value)] = []) {
    self.positional = positional
    self.keywords = keywords
  }

  public func keyword(_ name: String) -> Value? {
    for (k, v) in keywords where k == name { return v }
    return nil
  }

  /// The argument at `position`, or else the keyword `name` (Python's binding of one parameter).
  public func value(_ position: Int, _ name: String) -> Value? {
    if position < positional.count { return positional[position] }
    return keyword(name)
  }
}

/// A callable: a Swift closure (dbt's `ref`, a filter bound to a value, a Jinja macro).
public final class Function {
  public let name: String
  let body: (Arguments) throws -> Value

  public init(_ name: String, _ body: @escaping (Arguments) throws -> Value) {
    self.name = name
    self.body = body
  }

  public func call(_ arguments: Arguments) throws -> Value { try body(arguments) }
}

/// A Python object the caller injects (`target`, `this`, `adapter`, a module): attributes, items,
/// rendering, optionally a call.
public protocol JinjaObject: AnyObject {
  var typeName: String { get }
  /// `obj.name`; nil gives undefined.
  func attribute(_ name: String) -> Value?
  /// `obj[key]`; by default the attribute named by a string key.
  func item(_ key: Value) -> Value?
  /// `{{ obj }}`
  var rendered: String { get }
  var reprText: String { get }
  var truthy: Bool { get }
  /// `{% set obj.name = value %}` (namespaces); by default an error.
  func setAttribute(_ name: String, _ value: Value) throws
}

extension JinjaObject {
  public var typeName: String { "object" }
  public func item(_ key: Value) -> Value? {
    if case .string(let s) = key { return attribute(s) }
    return nil
  }
  public var rendered: String { "<\(typeName) object>" }
  public var reprText: String { rendered }
  public var truthy: Bool { true }
  public func setAttribute(_ name: String, _ value: Value) throws {
    throw JinjaError(.type, "cannot assign attribute '\(name)' on \(typeName)")
  }
}

/// A simple attribute bag (modules, `target`-like records).
public final class AttributeObject: JinjaObject {
  public let typeName: String
  public var attributes: [String: Value]
  let renderedText: String?

  public init(typeName: String, attributes: [String: Value], rendered: String? = nil) {
    self.typeName = typeName
    self.attributes = attributes
    self.renderedText = rendered
  }

  public func attribute(_ name: String) -> Value? { attributes[name] }
  public var rendered: String { renderedText ?? "<\(typeName)>" }
}

/// Jinja's `namespace()`: attributes assignable from inner scopes.
final class Namespace: JinjaObject {
  var attributes: DictRef
  init(_ attributes: DictRef) { self.attributes = attributes }
  var typeName: String { "Namespace" }
  func attribute(_ name: String) -> Value? { attributes.get(name) }
  func setAttribute(_ name: String, _ value: Value) throws { attributes.set(.string(name), value) }
  var rendered: String { "<Namespace \(Value.dict(attributes).repr)>" }
}
