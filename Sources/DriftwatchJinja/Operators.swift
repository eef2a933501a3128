/// Python's operators over `Value`.
enum Operators {
  enum Number {
    case int(Int)
    case double(Double)
    var double: Double {
      switch self {
      case .int(let i): return Double(i)
      case .double(let d): return d
      }
    }
  }

  static func number(_ v: Value) -> Number? {
    switch v {
    case .int(let i): return .int(i)
    case .double(let d): return .double(d)
    case .bool(let b): return .int(b ? 1 : 0)
    default: return nil
    }
  }

  static func undefinedError(_ v: Value) -> JinjaError {
    if case .undefined(let name?) = v { return JinjaError(.undefined, "'\(name)' is undefined") }
    return JinjaError(.undefined, "an undefined value was used in an operation")
  }

  static func typeError(_ op: String, _ a: Value, _ b: Value) -> JinjaError {
    if a.isUndefined { return undefinedError(a) }
    if b.isUndefined { return undefinedError(b) }
    return JinjaError(.type, "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
  }

  static func negate(_ v: Value) throws -> Value {
    switch number(v) {
    case .int(let i)?:
      let (r, overflow) = (0).subtractingReportingOverflow(i)
      if overflow { throw JinjaError(.value, "integer overflow") }
      return .int(r)
    case .double(let d)?: return .double(-d)
    case nil:
      if v.isUndefined { throw undefinedError(v) }
      throw JinjaError(.type, "bad operand type for unary -: '\(v.typeName)'")
    }
  }

  static func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
  }

  static func pyMod(_ a: Int, _ b: Int) -> Int {
    let r = a % b
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
  }

  static func pyMod(_ a: Double, _ b: Double) -> Double {
    let r = a.truncatingRemainder(dividingBy: b)
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
  }

  static func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Value {
    if result.overflow { throw JinjaError(.value, "integer overflow") }
    return .int(result.partialValue)
  }

  static func binary(_ op: BinaryOp, _ a: Value, _ b: Value) throws -> Value {
    if let x = number(a), let y = number(b) {
      switch (op, x, y) {
      case (.add, .int(let i), .int(let j)): return try checked(i.addingReportingOverflow(j))
      case (.sub, .int(let i), .int(let j)): return try checked(i.subtractingReportingOverflow(j))
      case (.mul, .int(let i), .int(let j)): return try checked(i.multipliedReportingOverflow(by: j))
      case (.add, _, _): return .double(x.double + y.double)
      case (.sub, _, _): return .double(x.double - y.double)
      case (.mul, _, _): return .double(x.double * y.double)
      case (.div, _, _):
        if y.double == 0 { throw JinjaError(.value, "division by zero") }
        return .double(x.double / y.double)
      case (.floorDiv, .int(let i), .int(let j)):
        if j == 0 { throw JinjaError(.value, "integer division or modulo by zero") }
        return .int(floorDiv(i, j))
      case (.floorDiv, _, _):
        if y.double == 0 { throw JinjaError(.value, "float floor division by zero") }
        return .double((x.double / y.double).rounded(.down))
      case (.mod, .int(let i), .int(let j)):
        if j == 0 { throw JinjaError(.value, "integer division or modulo by zero") }
        return .int(pyMod(i, j))
      case (.mod, _, _):
        if y.double == 0 { throw JinjaError(.value, "float modulo") }
        return .double(pyMod(x.double, y.double))
      case (.pow, .int(let i), .int(let j)) where j >= 0:
        var result = 1
        var k = 0
        while k < j {
          let (r, overflow) = result.multipliedReportingOverflow(by: i)
          if overflow { throw JinjaError(.value, "integer overflow") }
          result = r
          k += 1
        }
        return .int(result)
      case (.pow, _, _): return .double(power(x.double, y.double))
      }
    }
    if case .object(let o as ArithmeticObject) = a, let v = try o.binary(op, b, reversed: false) { return v }
    if case .object(let o as ArithmeticObject) = b, let v = try o.binary(op, a, reversed: true) { return v }
    switch (op, a, b) {
    case (.add, .string(let s), .string(let t)): return .string(s + t)
    case (.add, .list(let l), .list(let m)): return .list(ListRef(l.items + m.items))
    case (.add, .tuple(let l), .tuple(let m)): return .tuple(l + m)
    case (.mul, .string(let s), _), (.mul, _, .string(let s)):
      guard let n = intValue(a) ?? intValue(b) else { throw typeError("*", a, b) }
      return .string(String(repeating: s, count: max(0, n)))
    case (.mul, .list(let l), _), (.mul, _, .list(let l)):
      guard let n = intValue(a) ?? intValue(b) else { throw typeError("*", a, b) }
      var out: [Value] = []
      for _ in 0..<max(0, n) { out += l.items }
      return .list(ListRef(out))
    case (.mod, .string(let s), _):
      return .string(try percentFormat(s, b))
    default:
      throw typeError(op.rawValue, a, b)
    }
  }

  static func intValue(_ v: Value) -> Int? {
    switch v {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    default: return nil
    }
  }

  static func power(_ x: Double, _ y: Double) -> Double {
    if y == 0 { return 1 }
    if y == y.rounded(), abs(y) < 1_000_000 {
      var result = 1.0
      var base = x
      var e = Int(abs(y))
      while e > 0 {
        if e & 1 == 1 { result *= base }
        base *= base
        e >>= 1
      }
      return y < 0 ? 1 / result : result
    }
    // Non-integral exponents: exp(y * ln x) without Foundation.
    guard x > 0 else { return .nan }
    return exp(y * log(x))
  }

  static func log(_ x: Double) -> Double {
    // ln(x) = 2 atanh((x-1)/(x+1)) after scaling by powers of two.
    var m = x
    var k = 0.0
    while m > 2 {
      m /= 2
      k += 1
    }
    while m < 0.5 {
      m *= 2
      k -= 1
    }
    let t = (m - 1) / (m + 1)
    var term = t
    var sum = 0.0
    var n = 1.0
    while abs(term / n) > 1e-17 {
      sum += term / n
      term *= t * t
      n += 2
    }
    return 2 * sum + k * 0.693_147_180_559_945_3
  }

  static func exp(_ x: Double) -> Double {
    let k = (x / 0.693_147_180_559_945_3).rounded()
    let r = x - k * 0.693_147_180_559_945_3
    var term = 1.0
    var sum = 1.0
    var n = 1.0
    while abs(term) > 1e-17 {
      term *= r / n
      sum += term
      n += 1
    }
    var result = sum
    var e = Int(k)
    while e > 0 {
      result *= 2
      e -= 1
    }
    while e < 0 {
      result /= 2
      e += 1
    }
    return result
  }

  /// Python `==`.
  static func equal(_ a: Value, _ b: Value) -> Bool {
    if let x = number(a), let y = number(b) {
      if case .int(let i) = x, case .int(let j) = y { return i == j }
      return x.double == y.double
    }
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let s), .string(let t)): return s.unicodeScalars.elementsEqual(t.unicodeScalars)
    case (.list(let l), .list(let m)):
      return l === m || (l.items.count == m.items.count && zip(l.items, m.items).allSatisfy { equal($0, $1) })
    case (.tuple(let l), .tuple(let m)):
      return l.count == m.count && zip(l, m).allSatisfy { equal($0, $1) }
    case (.dict(let d), .dict(let e)):
      if d === e { return true }
      guard d.count == e.count else { return false }
      for entry in d.entries {
        guard let other = e.get(entry.key), equal(entry.value, other) else { return false }
      }
      return true
    case (.function(let f), .function(let g)): return f === g
    case (.object(let o), .object(let p)):
      if let eq = o as? EquatableObject { return eq.isEqual(to: b) }
      return o === p
    case (.object(let o), _):
      if let eq = o as? EquatableObject { return eq.isEqual(to: b) }
      return false
    default: return false
    }
  }

  /// Python ordering: numbers, strings, lists/tuples lexicographically.
  static func less(_ a: Value, _ b: Value) throws -> Bool {
    if let x = number(a), let y = number(b) {
      if case .int(let i) = x, case .int(let j) = y { return i < j }
      return x.double < y.double
    }
    switch (a, b) {
    case (.string(let s), .string(let t)):
      return s.unicodeScalars.lexicographicallyPrecedes(t.unicodeScalars)
    case (.list(let l), .list(let m)): return try lessSequence(l.items, m.items)
    case (.tuple(let l), .tuple(let m)): return try lessSequence(l, m)
    default:
      if a.isUndefined { throw undefinedError(a) }
      if b.isUndefined { throw undefinedError(b) }
      throw JinjaError(.type, "'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
    }
  }

  static func lessSequence(_ l: [Value], _ m: [Value]) throws -> Bool {
    for (x, y) in zip(l, m) where !equal(x, y) { return try less(x, y) }
    return l.count < m.count
  }

  static func compare(_ op: CompareOp, _ a: Value, _ b: Value) throws -> Bool {
    switch op {
    case .eq: return equal(a, b)
    case .ne: return !equal(a, b)
    case .lt: return try less(a, b)
    case .gt: return try less(b, a)
    case .le: return try less(a, b) || equal(a, b)
    case .ge: return try less(b, a) || equal(a, b)
    case .isIn: return try contains(b, a)
    case .notIn: return !(try contains(b, a))
    }
  }

  static func contains(_ container: Value, _ item: Value) throws -> Bool {
    switch container {
    case .string(let s):
      guard case .string(let t) = item else {
        throw JinjaError(.type, "'in <string>' requires string as left operand, not \(item.typeName)")
      }
      return t.isEmpty || s.contains(t)
    case .list(let l): return l.items.contains { equal($0, item) }
    case .tuple(let t): return t.contains { equal($0, item) }
    case .dict(let d): return (try? d.contains(item)) ?? false
    case .undefined: return false
    case .object(let o):
      if let seq = o as? IterableObject { return seq.iterationItems.contains { equal($0, item) } }
      if case .string(let key) = item { return o.attribute(key) != nil }
      return false
    default: throw JinjaError(.type, "argument of type '\(container.typeName)' is not iterable")
    }
  }

  static func normalizeIndex(_ i: Int, count: Int) -> Int? {
    let k = i < 0 ? i + count : i
    return k >= 0 && k < count ? k : nil
  }

  /// Python slicing of strings, lists, tuples.
  static func slice(_ base: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws -> Value {
    func bound(_ v: Value?) throws -> Int? {
      guard let v, !v.isNone else { return nil }
      guard let i = intValue(v) else { throw JinjaError(.type, "slice indices must be integers or None") }
      return i
    }
    let st = try bound(step) ?? 1
    if st == 0 { throw JinjaError(.value, "slice step cannot be zero") }
    func indices(_ count: Int) throws -> [Int] {
      var lo = try bound(start)
      var hi = try bound(stop)
      if st > 0 {
        var a = lo ?? 0
        if a < 0 { a = max(0, a + count) }
        a = min(a, count)
        var b = hi ?? count
        if b < 0 { b = max(0, b + count) }
        b = min(b, count)
        lo = a
        hi = b
        return a < b ? Array(stride(from: a, to: b, by: st)) : []
      } else {
        var a = lo ?? (count - 1)
        if a < 0 { a += count }
        a = min(a, count - 1)
        var b = hi ?? -1
        if hi != nil && b < 0 { b = max(-1, b + count) }
        return a > b ? Array(stride(from: a, to: b, by: st)) : []
      }
    }
    switch base {
    case .string(let s):
      let scalars = Array(s.unicodeScalars)
      var out = String.UnicodeScalarView()
      for i in try indices(scalars.count) { out.append(scalars[i]) }
      return .string(String(out))
    case .list(let l): return .list(ListRef(try indices(l.items.count).map { l.items[$0] }))
    case .tuple(let t): return .tuple(try indices(t.count).map { t[$0] })
    case .undefined: return base
    default: throw JinjaError(.type, "'\(base.typeName)' object is not subscriptable")
    }
  }

  /// `'%s-%d' % (a, b)`: printf-style formatting, the common conversions.
  static func percentFormat(_ format: String, _ arg: Value) throws -> String {
    var args: [Value]
    var mapping: DictRef?
    switch arg {
    case .tuple(let t): args = t
    case .dict(let d):
      args = [arg]
      mapping = d
    default: args = [arg]
    }
    var out = ""
    var next = 0
    var scalars = Array(format.unicodeScalars)[...]
    while let c = scalars.first {
      scalars = scalars.dropFirst()
      guard c == "%" else {
        out.unicodeScalars.append(c)
        continue
      }
      var key: String?
      if scalars.first == "(" {
        guard let close = scalars.firstIndex(of: ")") else {
          throw JinjaError(.value, "incomplete format key")
        }
        key = String(String.UnicodeScalarView(scalars[scalars.index(after: scalars.startIndex)..<close]))
        scalars = scalars[scalars.index(after: close)...]
      }
      var flags = ""
      while let f = scalars.first, "-+ 0#".unicodeScalars.contains(f) {
        flags.unicodeScalars.append(f)
        scalars = scalars.dropFirst()
      }
      var width = ""
      while let d = scalars.first, d.properties.numericType != nil, d.isASCII {
        width.unicodeScalars.append(d)
        scalars = scalars.dropFirst()
      }
      var precision: Int?
      if scalars.first == "." {
        scalars = scalars.dropFirst()
        var p = ""
        while let d = scalars.first, d.properties.numericType != nil, d.isASCII {
          p.unicodeScalars.append(d)
          scalars = scalars.dropFirst()
        }
        precision = Int(p) ?? 0
      }
      guard let conv = scalars.first else { throw JinjaError(.value, "incomplete format") }
      scalars = scalars.dropFirst()
      if conv == "%" {
        out += "%"
        continue
      }
      let value: Value
      if let key {
        guard let mapping, let v = mapping.get(key) else {
          throw JinjaError(.value, "format requires a mapping")
        }
        value = v
      } else {
        guard next < args.count else { throw JinjaError(.type, "not enough arguments for format string") }
        value = args[next]
        next += 1
      }
      var piece: String
      switch conv {
      case "s": piece = value.str
      case "r": piece = value.repr
      case "d", "i":
        guard let n = number(value) else {
          throw JinjaError(.type, "%\(conv) format: a number is required, not \(value.typeName)")
        }
        switch n {
        case .int(let i): piece = String(i)
        case .double(let d): piece = String(Int(d))
        }
      case "f", "F":
        guard let n = number(value) else {
          throw JinjaError(.type, "must be real number, not \(value.typeName)")
        }
        piece = Filters.fixed(n.double, precision ?? 6)
      default:
        throw JinjaError(.unsupported, "the %\(conv) conversion is not supported")
      }
      if let w = Int(width), piece.unicodeScalars.count < w {
        let pad = String(
          repeating: flags.contains("0") && !flags.contains("-") ? "0" : " ", count: w - piece.count)
        piece = flags.contains("-") ? piece + pad : pad + piece
      }
      out += piece
    }
    if mapping == nil && next < args.count {
      throw JinjaError(.type, "not all arguments converted during string formatting")
    }
    return out
  }
}

/// An injected object with its own equality (`target.name == 'prod'` style comparisons on wrappers).
public protocol EquatableObject: JinjaObject {
  func isEqual(to other: Value) -> Bool
}
