/// Jinja2's built-in filters (jinja2/filters.py), plus dbt's text-mode `as_text`/`as_bool`/`as_native`/
/// `as_number`/`is_list`. A filter not here is an `.unsupported` error.
enum Filters {
  static func arg(_ args: Arguments, _ i: Int, _ name: String) -> Value? { args.value(i, name) }

  static func apply(_ name: String, _ value: Value, _ args: Arguments, renderer: Renderer) throws -> Value {
    switch name {
    case "default", "d":
      let fallback = arg(args, 0, "default_value") ?? .string("")
      let boolean = arg(args, 1, "boolean")?.truthy ?? false
      if value.isUndefined || (boolean && !value.truthy) { return fallback }
      return value
    case "lower": return .string(value.str.lowercased())
    case "upper": return .string(value.str.uppercased())
    case "trim":
      return .string(Attributes.strip(value.str, arg(args, 0, "chars"), leading: true, trailing: true))
    case "replace":
      guard let old = arg(args, 0, "old"), let new = arg(args, 1, "new") else {
        throw JinjaError(.type, "replace needs old and new")
      }
      let count = arg(args, 2, "count").flatMap(Operators.intValue) ?? -1
      return .string(Attributes.replace(value.str, old.str, new.str, count: count))
    case "join":
      let sep = arg(args, 0, "d")?.str ?? ""
      var items = try renderer.iterate(value)
      if let attribute = arg(args, 1, "attribute") {
        items = try items.map { try attributeValue($0, attribute, renderer: renderer) }
      }
      return .string(items.map(\.str).joined(separator: sep))
    case "length", "count":
      switch value {
      case .string(let s): return .int(s.unicodeScalars.count)
      case .list(let l): return .int(l.items.count)
      case .tuple(let t): return .int(t.count)
      case .dict(let d): return .int(d.count)
      case .undefined: return .int(0)
      case .object(let o as IterableObject): return .int(o.iterationItems.count)
      default: throw JinjaError(.type, "object of type '\(value.typeName)' has no len()")
      }
    case "list": return .list(ListRef(try renderer.iterate(value)))
    case "first":
      return try renderer.iterate(value).first ?? .undefined("first")
    case "last":
      return try renderer.iterate(value).last ?? .undefined("last")
    case "unique":
      let caseSensitive = arg(args, 0, "case_sensitive")?.truthy ?? false
      let attribute = arg(args, 1, "attribute")
      var seen: [Value] = []
      var out: [Value] = []
      for item in try renderer.iterate(value) {
        var key = try attribute.map { try attributeValue(item, $0, renderer: renderer) } ?? item
        if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
        if !seen.contains(where: { Operators.equal($0, key) }) {
          seen.append(key)
          out.append(item)
        }
      }
      return .list(ListRef(out))
    case "sort":
      let reverse = arg(args, 0, "reverse")?.truthy ?? false
      let caseSensitive = arg(args, 1, "case_sensitive")?.truthy ?? false
      var items = try sorted(
        try renderer.iterate(value), caseSensitive: caseSensitive, attribute: arg(args, 2, "attribute"),
        renderer: renderer)
      if reverse {
        items = try stableReverseSorted(items, caseSensitive, arg(args, 2, "attribute"), renderer)
      }
      return .list(ListRef(items))
    case "reverse":
      if case .string(let s) = value {
        return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed())))
      }
      return .list(ListRef(try renderer.iterate(value).reversed()))
    case "map":
      let items = try renderer.iterate(value)
      if let attribute = args.keyword("attribute") {
        let fallback = args.keyword("default")
        return .list(
          ListRef(
            try items.map {
              let v = try attributeValue($0, attribute, renderer: renderer)
              if v.isUndefined, let fallback { return fallback }
              return v
            }))
      }
      guard case .string(let filter)? = args.positional.first else {
        throw JinjaError(.type, "map requires a filter argument")
      }
      let rest = Arguments(Array(args.positional.dropFirst()), keywords: args.keywords)
      return .list(ListRef(try items.map { try renderer.applyFilter(filter, $0, rest, line: 0) }))
    case "select", "reject":
      let keep = name == "select"
      let items = try renderer.iterate(value)
      var out: [Value] = []
      for item in items where try selectTest(item, args, renderer: renderer) == keep { out.append(item) }
      return .list(ListRef(out))
    case "selectattr", "rejectattr":
      let keep = name == "selectattr"
      guard let attribute = args.positional.first else {
        throw JinjaError(.type, "\(name) needs an attribute")
      }
      let rest = Arguments(Array(args.positional.dropFirst()), keywords: args.keywords)
      var out: [Value] = []
      for item in try renderer.iterate(value) {
        let v = try attributeValue(item, attribute, renderer: renderer)
        if try selectTest(v, rest, renderer: renderer) == keep { out.append(item) }
      }
      return .list(ListRef(out))
    case "int":
      let fallback = arg(args, 0, "default") ?? .int(0)
      let base = arg(args, 1, "base").flatMap(Operators.intValue) ?? 10
      return toInt(value, base: base) ?? fallback
    case "float":
      let fallback = arg(args, 0, "default") ?? .double(0)
      return toFloat(value).map(Value.double) ?? fallback
    case "string": return .string(value.str)
    case "tojson":
      let indent = arg(args, 0, "indent").flatMap(Operators.intValue)
      let text = try JSON.dump(value, sortKeys: true, indent: indent)
      return .string(
        text.replacingAll("<", "\\u003c").replacingAll(">", "\\u003e").replacingAll("&", "\\u0026")
          .replacingAll("'", "\\u0027"))
    case "indent": return .string(indent(value.str, args))
    case "capitalize": return .string(capitalize(value.str))
    case "title": return .string(title(value.str))
    case "wordcount": return .int(words(value.str).count)
    case "batch":
      guard let size = arg(args, 0, "linecount").flatMap(Operators.intValue), size > 0 else {
        throw JinjaError(.value, "batch needs a positive line count")
      }
      let fill = arg(args, 1, "fill_with")
      var out: [Value] = []
      var current: [Value] = []
      for item in try renderer.iterate(value) {
        if current.count == size {
          out.append(.list(ListRef(current)))
          current = []
        }
        current.append(item)
      }
      if !current.isEmpty {
        if let fill, !fill.isNone { while current.count < size { current.append(fill) } }
        out.append(.list(ListRef(current)))
      }
      return .list(ListRef(out))
    case "abs":
      switch value {
      case .int(let i): return .int(abs(i))
      case .double(let d): return .double(abs(d))
      case .bool(let b): return .int(b ? 1 : 0)
      default: throw JinjaError(.type, "bad operand type for abs(): '\(value.typeName)'")
      }
    case "round":
      let precision = arg(args, 0, "precision").flatMap(Operators.intValue) ?? 0
      let method = arg(args, 1, "method")?.str ?? "common"
      return try round(value, precision: precision, method: method)
    case "sum":
      var total: Value = arg(args, 1, "start") ?? .int(0)
      let attribute = arg(args, 0, "attribute")
      for item in try renderer.iterate(value) {
        let v = try attribute.map { try attributeValue(item, $0, renderer: renderer) } ?? item
        total = try Operators.binary(.add, total, v)
      }
      return total
    case "min", "max":
      let caseSensitive = arg(args, 0, "case_sensitive")?.truthy ?? false
      let items = try sorted(
        try renderer.iterate(value), caseSensitive: caseSensitive, attribute: arg(args, 1, "attribute"),
        renderer: renderer)
      if items.isEmpty { return .undefined(name) }
      if name == "min" { return items[0] }
      // max: the first of the largest (Python's max keeps the first maximum).
      guard var best = items.last else { return .undefined(name) }
      let attribute = arg(args, 1, "attribute")
      let bestKey = try sortKey(best, caseSensitive, attribute, renderer)
      for item in items where Operators.equal(try sortKey(item, caseSensitive, attribute, renderer), bestKey)
      {
        best = item
        break
      }
      return best
    case "items":
      switch value {
      case .dict(let d): return .list(ListRef(d.entries.map { .tuple([$0.key, $0.value]) }))
      case .undefined: return .list([])
      default: throw JinjaError(.type, "can only get item pairs from a mapping")
      }
    case "dictsort":
      guard case .dict(let d) = value else { throw JinjaError(.type, "dictsort needs a mapping") }
      let caseSensitive = arg(args, 0, "case_sensitive")?.truthy ?? false
      let by = arg(args, 1, "by")?.str ?? "key"
      let reverse = arg(args, 2, "reverse")?.truthy ?? false
      let pairs: [Value] = d.entries.map { .tuple([$0.key, $0.value]) }
      let position = by == "value" ? 1 : 0
      var result = try mergeSort(pairs) { a, b in
        guard case .tuple(let x) = a, case .tuple(let y) = b else { return false }
        return try Operators.less(fold(x[position], caseSensitive), fold(y[position], caseSensitive))
      }
      if reverse { result.reverse() }
      return .list(ListRef(result))
    case "escape", "e", "forceescape": return .string(escape(value.str))
    case "safe", "as_text", "as_bool", "as_native", "as_number": return value
    case "is_list":
      if case .list = value { return .bool(true) }
      return .bool(false)
    case "striptags": return .string(striptags(value.str))
    case "format":
      let params: Value = args.keywords.isEmpty ? .tuple(args.positional) : Value.dict(args.keywords)
      return .string(try Operators.percentFormat(value.str, params))
    case "center":
      let width = arg(args, 0, "width").flatMap(Operators.intValue) ?? 80
      let s = value.str
      let n = s.unicodeScalars.count
      guard width > n else { return .string(s) }
      let total = width - n
      let left = total / 2 + (total & width & 1)
      return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
    case "attr":
      // Python getattr only: a dict's keys are not attributes.
      guard let n = args.positional.first else { throw JinjaError(.type, "attr needs a name") }
      if case .dict(let d) = value { return Attributes.dictMethod(d, n.str) ?? .undefined(n.str) }
      return try Attributes.get(value, n.str, renderer: renderer)
    case "groupby":
      guard let attribute = arg(args, 0, "attribute") else {
        throw JinjaError(.type, "groupby needs an attribute")
      }
      let fallback = arg(args, 1, "default")
      let caseSensitive = arg(args, 2, "case_sensitive")?.truthy ?? false
      let keyed = try renderer.iterate(value).map { item -> (Value, Value) in
        var k = try attributeValue(item, attribute, renderer: renderer)
        if k.isUndefined, let fallback { k = fallback }
        return (k, item)
      }
      let ordered = try mergeSort(keyed) {
        try Operators.less(fold($0.0, caseSensitive), fold($1.0, caseSensitive))
      }
      var groups: [Value] = []
      var currentKey: Value?
      var currentItems: [Value] = []
      for (k, item) in ordered {
        if let ck = currentKey, Operators.equal(fold(ck, caseSensitive), fold(k, caseSensitive)) {
          currentItems.append(item)
        } else {
          if let ck = currentKey { groups.append(.tuple([ck, .list(ListRef(currentItems))])) }
          currentKey = k
          currentItems = [item]
        }
      }
      if let ck = currentKey { groups.append(.tuple([ck, .list(ListRef(currentItems))])) }
      return .list(ListRef(groups))
    case "truncate":
      let s = value.str
      let length = arg(args, 0, "length").flatMap(Operators.intValue) ?? 255
      let killwords = arg(args, 1, "killwords")?.truthy ?? false
      let end = arg(args, 2, "end")?.str ?? "..."
      let leeway = arg(args, 3, "leeway").flatMap(Operators.intValue) ?? 5
      let scalars = Array(s.unicodeScalars)
      if scalars.count <= length + leeway { return .string(s) }
      let cut = max(0, length - end.unicodeScalars.count)
      if killwords { return .string(Attributes.string(scalars[..<cut]) + end) }
      var head = Attributes.string(scalars[..<cut])
      if let space = head.unicodeScalars.lastIndex(of: " ") {
        head = String(head.unicodeScalars[..<space])
      }
      return .string(head + end)
    default:
      throw JinjaError(.unsupported, "the filter '\(name)' is not supported")
    }
  }

  static func fold(_ v: Value, _ caseSensitive: Bool) -> Value {
    if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
    return v
  }

  static func sortKey(_ item: Value, _ caseSensitive: Bool, _ attribute: Value?, _ renderer: Renderer?) throws
    -> Value
  {
    var key = item
    if let attribute, let renderer { key = try attributeValue(item, attribute, renderer: renderer) }
    return fold(key, caseSensitive)
  }

  /// A stable sort by Python's `<`.
  static func mergeSort<T>(_ items: [T], _ less: (T, T) throws -> Bool) throws -> [T] {
    if items.count < 2 { return items }
    let mid = items.count / 2
    let left = try mergeSort(Array(items[..<mid]), less)
    let right = try mergeSort(Array(items[mid...]), less)
    var out: [T] = []
    out.reserveCapacity(items.count)
    var i = 0
    var j = 0
    while i < left.count && j < right.count {
      if try less(right[j], left[i]) {
        out.append(right[j])
        j += 1
      } else {
        out.append(left[i])
        i += 1
      }
    }
    out += left[i...]
    out += right[j...]
    return out
  }

  static func sorted(_ items: [Value], caseSensitive: Bool, attribute: Value?, renderer: Renderer?) throws
    -> [Value]
  {
    let keyed = try items.map { (try sortKey($0, caseSensitive, attribute, renderer), $0) }
    return try mergeSort(keyed) { try Operators.less($0.0, $1.0) }.map(\.1)
  }

  /// Python's `sorted(reverse=True)` keeps equal items in their original order.
  static func stableReverseSorted(
    _ items: [Value], _ caseSensitive: Bool, _ attribute: Value?, _ renderer: Renderer
  )
    throws -> [Value]
  {
    let keyed = try items.map { (try sortKey($0, caseSensitive, attribute, renderer), $0) }
    return try mergeSort(keyed) { try Operators.less($1.0, $0.0) }.map(\.1)
  }

  /// Jinja's `make_attrgetter`: a dotted path, integer parts index.
  static func attributeValue(_ item: Value, _ attribute: Value, renderer: Renderer) throws -> Value {
    if let i = Operators.intValue(attribute) { return try Attributes.item(item, .int(i), renderer: renderer) }
    var v = item
    for part in attribute.str.split(separator: ".", omittingEmptySubsequences: false) {
      let key: Value = Int(part).map { .int($0) } ?? .string(String(part))
      v = try Attributes.item(v, key, renderer: renderer)
    }
    return v
  }

  static func selectTest(_ item: Value, _ args: Arguments, renderer: Renderer) throws -> Bool {
    guard case .string(let test)? = args.positional.first else { return item.truthy }
    let rest = Arguments(Array(args.positional.dropFirst()), keywords: args.keywords)
    return try renderer.applyTest(test, item, rest, line: 0)
  }

  static func toInt(_ value: Value, base: Int) -> Value? {
    switch value {
    case .int: return value
    case .bool(let b): return .int(b ? 1 : 0)
    case .double(let d):
      guard d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) else { return nil }
      return .int(i)
    case .string(let s):
      let t = Attributes.strip(s, nil, leading: true, trailing: true).replacingAll("_", "")
      var body = Substring(t)
      var negative = false
      if body.hasPrefix("-") || body.hasPrefix("+") {
        negative = body.hasPrefix("-")
        body = body.dropFirst()
      }
      var radix = base
      if base != 10 {
        let lower = body.lowercased()
        if (base == 16 && lower.hasPrefix("0x")) || (base == 8 && lower.hasPrefix("0o"))
          || (base == 2 && lower.hasPrefix("0b"))
        {
          body = body.dropFirst(2)
        }
      } else {
        radix = 10
      }
      if let i = Int(body, radix: radix) { return .int(negative ? -i : i) }
      if let d = toFloat(value), d.isFinite, let i = Int(exactly: d.rounded(.towardZero)) { return .int(i) }
      return nil
    default: return nil
    }
  }

  static func toFloat(_ value: Value) -> Double? {
    switch value {
    case .int(let i): return Double(i)
    case .double(let d): return d
    case .bool(let b): return b ? 1 : 0
    case .string(let s):
      let t = Attributes.strip(s, nil, leading: true, trailing: true).replacingAll("_", "")
      switch t.lowercased() {
      case "inf", "+inf", "infinity": return .infinity
      case "-inf", "-infinity": return -.infinity
      case "nan": return .nan
      default: return Double(t)
      }
    default: return nil
    }
  }

  static func indent(_ text: String, _ args: Arguments) -> String {
    let widthValue = arg(args, 0, "width") ?? .int(4)
    let first = arg(args, 1, "first")?.truthy ?? false
    let blank = arg(args, 2, "blank")?.truthy ?? false
    let indention: String
    if case .string(let s) = widthValue {
      indention = s
    } else {
      indention = String(repeating: " ", count: Operators.intValue(widthValue) ?? 4)
    }
    var lines = splitLines(text + "\n")
    var rv: String
    if blank {
      rv = lines.joined(separator: "\n" + indention)
    } else {
      rv = lines.isEmpty ? "" : lines.removeFirst()
      if !lines.isEmpty {
        rv += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
      }
    }
    if first { rv = indention + rv }
    return rv
  }

  /// Python's `str.splitlines()` for `\n`, `\r\n`, `\r`.
  static func splitLines(_ s: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var pendingCR = false
    for c in s.unicodeScalars {
      if pendingCR {
        pendingCR = false
        if c == "\n" { continue }
      }
      if c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" || c == "\u{1C}" || c == "\u{1D}"
        || c == "\u{1E}"
        || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
      {
        lines.append(String(current))
        current = String.UnicodeScalarView()
        pendingCR = c == "\r"
      } else {
        current.append(c)
      }
    }
    if !current.isEmpty { lines.append(String(current)) }
    return lines
  }

  static func capitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return String(first).uppercased()
      + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
  }

  /// Jinja's `title`: words split at runs of `-`, whitespace and opening brackets.
  static func title(_ s: String) -> String {
    var out = ""
    var atWordStart = true
    for c in s.unicodeScalars {
      let isSeparator =
        c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || Attributes.isPythonSpace(c)
      if isSeparator {
        out.unicodeScalars.append(c)
        atWordStart = true
      } else if atWordStart {
        out += String(c).uppercased()
        atWordStart = false
      } else {
        out += String(c).lowercased()
      }
    }
    return out
  }

  static func isWordScalar(_ c: Unicode.Scalar) -> Bool {
    c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
  }

  static func words(_ s: String) -> [String] {
    var out: [String] = []
    var current = String.UnicodeScalarView()
    for c in s.unicodeScalars {
      if isWordScalar(c) {
        current.append(c)
      } else if !current.isEmpty {
        out.append(String(current))
        current = String.UnicodeScalarView()
      }
    }
    if !current.isEmpty { out.append(String(current)) }
    return out
  }

  static func escape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&#34;"
      case "'": out += "&#39;"
      default: out.unicodeScalars.append(c)
      }
    }
    return out
  }

  static func striptags(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    var inTag = false
    for c in s.unicodeScalars {
      if c == "<" {
        inTag = true
      } else if c == ">" && inTag {
        inTag = false
        out.append(" ")
      } else if !inTag {
        out.append(c)
      }
    }
    return ((try? Attributes.split(String(out), sep: nil, maxsplit: -1)) ?? []).joined(separator: " ")
  }

  static func round(_ value: Value, precision: Int, method: String) throws -> Value {
    guard let n = Operators.number(value) else {
      throw JinjaError(.type, "type \(value.typeName) doesn't define __round__ method")
    }
    let scale = Operators.power(10, Double(precision))
    switch method {
    case "common":
      if case .int(let i) = n, precision >= 0 { return .int(i) }
      if precision < 0 || precision > 300 {
        return .double((n.double * scale).rounded(.toNearestOrEven) / scale)
      }
      return .double(Double(fixed(n.double, precision)) ?? n.double)
    case "ceil": return .double((n.double * scale).rounded(.up) / scale)
    case "floor": return .double((n.double * scale).rounded(.down) / scale)
    default: throw JinjaError(.value, "method must be common, ceil or floor")
    }
  }

  /// `value` with `digits` digits after the point, correctly rounded from its exact binary value (half to
  /// even), as Python's `'%.Nf' % value` and `round(value, N)`.
  static func fixed(_ value: Double, _ digits: Int) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let digits = max(0, min(digits, 60))
    let magnitude = abs(value)
    var mantissa: UInt64
    var exponent: Int
    if magnitude.exponentBitPattern == 0 {
      mantissa = magnitude.significandBitPattern
      exponent = -1074
    } else {
      mantissa = (1 << 52) | magnitude.significandBitPattern
      exponent = Int(magnitude.exponentBitPattern) - 1075
    }
    if mantissa == 0 { exponent = 0 }
    var n = BigUInt(mantissa)
    for _ in 0..<digits { n.multiply(by: 10) }
    if exponent >= 0 {
      n.shiftLeft(exponent)
    } else {
      let k = -exponent
      let half = n.bit(k - 1)
      let below = n.anyBitBelow(k - 1)
      n.shiftRight(k)
      if half && (below || n.bit(0)) { n.add(1) }
    }
    var text = n.decimal
    if digits > 0 {
      if text.count <= digits { text = String(repeating: "0", count: digits - text.count + 1) + text }
      let cut = text.index(text.endIndex, offsetBy: -digits)
      text = text[..<cut] + "." + text[cut...]
    }
    return (value.sign == .minus ? "-" : "") + text
  }
}

/// Just enough of an unsigned big integer for exact decimal formatting of doubles.
struct BigUInt {
  var limbs: [UInt32]  // little endian

  init(_ v: UInt64) { limbs = [UInt32(truncatingIfNeeded: v), UInt32(truncatingIfNeeded: v >> 32)] }

  mutating func multiply(by m: UInt32) {
    var carry: UInt64 = 0
    for i in 0..<limbs.count {
      let p = UInt64(limbs[i]) * UInt64(m) + carry
      limbs[i] = UInt32(truncatingIfNeeded: p)
      carry = p >> 32
    }
    if carry > 0 { limbs.append(UInt32(carry)) }
  }

  mutating func add(_ a: UInt32) {
    var carry = UInt64(a)
    var i = 0
    while carry > 0 {
      if i == limbs.count { limbs.append(0) }
      let s = UInt64(limbs[i]) + carry
      limbs[i] = UInt32(truncatingIfNeeded: s)
      carry = s >> 32
      i += 1
    }
  }

  func bit(_ k: Int) -> Bool {
    guard k >= 0, k / 32 < limbs.count else { return false }
    return limbs[k / 32] >> UInt32(k % 32) & 1 == 1
  }

  func anyBitBelow(_ k: Int) -> Bool {
    guard k > 0 else { return false }
    for i in 0..<min(k / 32, limbs.count) where limbs[i] != 0 { return true }
    let rest = k % 32
    if rest > 0, k / 32 < limbs.count, limbs[k / 32] & ((1 << UInt32(rest)) - 1) != 0 { return true }
    return false
  }

  mutating func shiftLeft(_ k: Int) {
    let words = k / 32
    let bits = UInt32(k % 32)
    var out = [UInt32](repeating: 0, count: words) + limbs + [0]
    if bits > 0 {
      var carry: UInt32 = 0
      for i in words..<out.count {
        let v = out[i]
        out[i] = (v << bits) | carry
        carry = v >> (32 - bits)
      }
    }
    limbs = out
  }

  mutating func shiftRight(_ k: Int) {
    let words = k / 32
    let bits = UInt32(k % 32)
    guard words < limbs.count else {
      limbs = [0]
      return
    }
    var out = Array(limbs[words...])
    if bits > 0 {
      for i in 0..<out.count {
        let high: UInt32 = i + 1 < out.count ? out[i + 1] << (32 - bits) : 0
        out[i] = (out[i] >> bits) | high
      }
    }
    limbs = out
  }

  var decimal: String {
    var n = limbs
    var chunks: [UInt32] = []
    while n.contains(where: { $0 != 0 }) {
      var remainder: UInt64 = 0
      for i in stride(from: n.count - 1, through: 0, by: -1) {
        let cur = (remainder << 32) | UInt64(n[i])
        n[i] = UInt32(cur / 1_000_000_000)
        remainder = cur % 1_000_000_000
      }
      chunks.append(UInt32(remainder))
      while n.count > 1 && n.last == 0 { n.removeLast() }
    }
    guard let last = chunks.popLast() else { return "0" }
    var s = String(last)
    for chunk in chunks.reversed() {
      let c = String(chunk)
      s += String(repeating: "0", count: 9 - c.count) + c
    }
    return s
  }
}
