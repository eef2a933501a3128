/// Attribute and item access (Jinja's `getattr`/`getitem`) and the Python methods of str, list and dict.
enum Attributes {
  static func get(_ base: Value, _ name: String, renderer: Renderer) throws -> Value {
    switch base {
    case .undefined: return .undefined(name)
    case .dict(let d):
      if let m = dictMethod(d, name) { return m }
      return d.get(name) ?? .undefined(name)
    case .string(let s): return stringMethod(s, name) ?? .undefined(name)
    case .list(let l): return listMethod(l, name) ?? .undefined(name)
    case .tuple(let t):
      switch name {
      case "index": return .function(Function("index") { args in try indexOf(t, args) })
      case "count":
        return .function(
          Function("count") { args in
            .int(t.filter { Operators.equal($0, args.positional.first ?? .none) }.count)
          })
      default: return .undefined(name)
      }
    case .object(let o): return o.attribute(name) ?? .undefined(name)
    case .int(let i):
      switch name {
      case "real": return base
      case "imag": return .int(0)
      default: _ = i
      }
      return .undefined(name)
    default: return .undefined(name)
    }
  }

  static func item(_ base: Value, _ key: Value, renderer: Renderer) throws -> Value {
    switch base {
    case .undefined: return base
    case .dict(let d):
      if let v = d.get(key) { return v }
      if case .string(let s) = key { return try get(base, s, renderer: renderer) }
      return .undefined(key.str)
    case .list(let l):
      if let i = Operators.intValue(key) {
        guard let k = Operators.normalizeIndex(i, count: l.items.count) else { return .undefined(nil) }
        return l.items[k]
      }
    case .tuple(let t):
      if let i = Operators.intValue(key) {
        guard let k = Operators.normalizeIndex(i, count: t.count) else { return .undefined(nil) }
        return t[k]
      }
    case .string(let s):
      if let i = Operators.intValue(key) {
        let scalars = Array(s.unicodeScalars)
        guard let k = Operators.normalizeIndex(i, count: scalars.count) else { return .undefined(nil) }
        return .string(String(scalars[k]))
      }
    case .object(let o):
      return o.item(key) ?? .undefined(key.str)
    default: break
    }
    if case .string(let s) = key { return try get(base, s, renderer: renderer) }
    return .undefined(nil)
  }

  static func indexOf(_ items: [Value], _ args: Arguments) throws -> Value {
    let target = args.positional.first ?? .none
    guard let i = items.firstIndex(where: { Operators.equal($0, target) }) else {
      throw JinjaError(.value, "\(target.repr) is not in list")
    }
    return .int(i)
  }

  static func method(_ name: String, _ body: @escaping (Arguments) throws -> Value) -> Value {
    .function(Function(name, body))
  }

  // MARK: list

  static func listMethod(_ l: ListRef, _ name: String) -> Value? {
    switch name {
    case "append":
      return method(name) { args in
        guard args.positional.count == 1 else {
          throw JinjaError(.type, "append() takes exactly one argument")
        }
        l.items.append(args.positional[0])
        return .none
      }
    case "extend":
      return method(name) { args in
        switch args.positional.first {
        case .list(let m)?: l.items += m.items
        case .tuple(let t)?: l.items += t
        case .dict(let d)?: l.items += d.entries.map(\.key)
        case .string(let s)?: l.items += s.unicodeScalars.map { .string(String($0)) }
        default: throw JinjaError(.type, "extend() needs an iterable")
        }
        return .none
      }
    case "insert":
      return method(name) { args in
        guard args.positional.count == 2, let i = Operators.intValue(args.positional[0]) else {
          throw JinjaError(.type, "insert() takes an index and a value")
        }
        let n = l.items.count
        let k = i < 0 ? max(0, i + n) : min(i, n)
        l.items.insert(args.positional[1], at: k)
        return .none
      }
    case "pop":
      return method(name) { args in
        guard !l.items.isEmpty else { throw JinjaError(.value, "pop from empty list") }
        let i = args.positional.first.flatMap(Operators.intValue) ?? -1
        guard let k = Operators.normalizeIndex(i, count: l.items.count) else {
          throw JinjaError(.value, "pop index out of range")
        }
        return l.items.remove(at: k)
      }
    case "remove":
      return method(name) { args in
        let target = args.positional.first ?? .none
        guard let i = l.items.firstIndex(where: { Operators.equal($0, target) }) else {
          throw JinjaError(.value, "list.remove(x): x not in list")
        }
        l.items.remove(at: i)
        return .none
      }
    case "index": return method(name) { args in try indexOf(l.items, args) }
    case "count":
      return method(name) { args in
        .int(l.items.filter { Operators.equal($0, args.positional.first ?? .none) }.count)
      }
    case "reverse":
      return method(name) { _ in
        l.items.reverse()
        return .none
      }
    case "sort":
      return method(name) { args in
        let reverse = args.keyword("reverse")?.truthy ?? false
        l.items = try Filters.sorted(l.items, caseSensitive: true, attribute: nil, renderer: nil)
        if reverse { l.items.reverse() }
        return .none
      }
    case "copy": return method(name) { _ in .list(ListRef(l.items)) }
    case "clear":
      return method(name) { _ in
        l.items.removeAll()
        return .none
      }
    default: return nil
    }
  }

  // MARK: dict

  static func dictMethod(_ d: DictRef, _ name: String) -> Value? {
    switch name {
    case "items": return method(name) { _ in .list(ListRef(d.entries.map { .tuple([$0.key, $0.value]) })) }
    case "keys": return method(name) { _ in .list(ListRef(d.entries.map(\.key))) }
    case "values": return method(name) { _ in .list(ListRef(d.entries.map(\.value))) }
    case "get":
      return method(name) { args in
        guard let key = args.value(0, "key") else {
          throw JinjaError(.type, "get expected at least 1 argument")
        }
        return d.get(key) ?? args.value(1, "default") ?? .none
      }
    case "update":
      return method(name) { args in
        if let first = args.positional.first {
          switch first {
          case .dict(let other): for entry in other.entries { d.set(entry.key, entry.value) }
          case .list, .tuple:
            let renderer: Renderer? = nil
            _ = renderer
            for pair in try iterateSimple(first) {
              let kv = try iterateSimple(pair)
              guard kv.count == 2 else {
                throw JinjaError(.value, "dictionary update sequence element has wrong length")
              }
              try d.setChecked(kv[0], kv[1])
            }
          default: throw JinjaError(.type, "'\(first.typeName)' object is not iterable")
          }
        }
        for (k, v) in args.keywords { d.set(.string(k), v) }
        return .none
      }
    case "pop":
      return method(name) { args in
        guard let key = args.positional.first else {
          throw JinjaError(.type, "pop expected at least 1 argument")
        }
        if let v = try d.remove(key) { return v }
        if args.positional.count > 1 { return args.positional[1] }
        throw JinjaError(.value, "key \(key.repr) not found")
      }
    case "setdefault":
      return method(name) { args in
        guard let key = args.positional.first else {
          throw JinjaError(.type, "setdefault expected at least 1 argument")
        }
        if let v = d.get(key) { return v }
        let v = args.positional.count > 1 ? args.positional[1] : .none
        try d.setChecked(key, v)
        return v
      }
    case "copy": return method(name) { _ in .dict(d.copy()) }
    case "clear":
      return method(name) { _ in
        d.removeAll()
        return .none
      }
    default: return nil
    }
  }

  static func iterateSimple(_ v: Value) throws -> [Value] {
    switch v {
    case .list(let l): return l.items
    case .tuple(let t): return t
    case .dict(let d): return d.entries.map(\.key)
    case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
    case .undefined: return []
    default: throw JinjaError(.type, "'\(v.typeName)' object is not iterable")
    }
  }

  // MARK: str

  static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0: return true
    default: return c.properties.isWhitespace
    }
  }

  static func strip(_ s: String, _ chars: Value?, leading: Bool, trailing: Bool) -> String {
    let scalars = Array(s.unicodeScalars)
    let set: Set<Unicode.Scalar>?
    if case .string(let c)? = chars { set = Set(c.unicodeScalars) } else { set = nil }
    func strippable(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isPythonSpace(c) }
    var a = 0
    var b = scalars.count
    if leading { while a < b && strippable(scalars[a]) { a += 1 } }
    if trailing { while b > a && strippable(scalars[b - 1]) { b -= 1 } }
    var out = String.UnicodeScalarView()
    out.append(contentsOf: scalars[a..<b])
    return String(out)
  }

  /// Occurrences of `needle` in `haystack` (unicode scalars), non-overlapping, left to right.
  static func find(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar], from: Int = 0) -> Int? {
    if needle.isEmpty { return from <= haystack.count ? from : nil }
    guard haystack.count >= needle.count else { return nil }
    var i = from
    while i + needle.count <= haystack.count {
      if haystack[i] == needle[0] {
        var k = 1
        while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
        if k == needle.count { return i }
      }
      i += 1
    }
    return nil
  }

  static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
    var v = String.UnicodeScalarView()
    v.append(contentsOf: scalars)
    return String(v)
  }

  static func split(_ s: String, sep: Value?, maxsplit: Int) throws -> [String] {
    let scalars = Array(s.unicodeScalars)
    guard case .string(let sepText)? = sep else {
      // Whitespace runs; leading and trailing whitespace ignored.
      var parts: [String] = []
      var i = 0
      var splits = 0
      while i < scalars.count {
        while i < scalars.count && isPythonSpace(scalars[i]) { i += 1 }
        if i >= scalars.count { break }
        if maxsplit >= 0 && splits >= maxsplit {
          var end = scalars.count
          while end > i && isPythonSpace(scalars[end - 1]) { end -= 1 }
          parts.append(string(scalars[i..<end]))
          break
        }
        let start = i
        while i < scalars.count && !isPythonSpace(scalars[i]) { i += 1 }
        parts.append(string(scalars[start..<i]))
        splits += 1
      }
      return parts
    }
    let needle = Array(sepText.unicodeScalars)
    if needle.isEmpty { throw JinjaError(.value, "empty separator") }
    var parts: [String] = []
    var start = 0
    var splits = 0
    while maxsplit < 0 || splits < maxsplit, let at = find(scalars, needle, from: start) {
      parts.append(string(scalars[start..<at]))
      start = at + needle.count
      splits += 1
    }
    parts.append(string(scalars[start...]))
    return parts
  }

  static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
    let scalars = Array(s.unicodeScalars)
    let needle = Array(old.unicodeScalars)
    if needle.isEmpty {
      // Python inserts `new` between every character (and at both ends).
      var out = ""
      var n = 0
      for c in scalars {
        if count < 0 || n < count {
          out += new
          n += 1
        }
        out.unicodeScalars.append(c)
      }
      if count < 0 || n < count { out += new }
      return out
    }
    var out = String.UnicodeScalarView()
    var start = 0
    var n = 0
    while count < 0 || n < count, let at = find(scalars, needle, from: start) {
      out.append(contentsOf: scalars[start..<at])
      out.append(contentsOf: new.unicodeScalars)
      start = at + needle.count
      n += 1
    }
    out.append(contentsOf: scalars[start...])
    return String(out)
  }

  static func prefixes(_ v: Value?) throws -> [String] {
    switch v {
    case .string(let s)?: return [s]
    case .tuple(let t)?:
      return try t.map {
        guard case .string(let s) = $0 else {
          throw JinjaError(.type, "tuple for startswith must only contain str")
        }
        return s
      }
    default: throw JinjaError(.type, "startswith first arg must be str or a tuple of str")
    }
  }

  static func stringMethod(_ s: String, _ name: String) -> Value? {
    switch name {
    case "lower": return method(name) { _ in .string(s.lowercased()) }
    case "upper": return method(name) { _ in .string(s.uppercased()) }
    case "casefold": return method(name) { _ in .string(s.lowercased()) }
    case "strip":
      return method(name) { args in .string(strip(s, args.positional.first, leading: true, trailing: true)) }
    case "lstrip":
      return method(name) { args in .string(strip(s, args.positional.first, leading: true, trailing: false)) }
    case "rstrip":
      return method(name) { args in .string(strip(s, args.positional.first, leading: false, trailing: true)) }
    case "split":
      return method(name) { args in
        let sep = args.value(0, "sep")
        let maxsplit = args.value(1, "maxsplit").flatMap(Operators.intValue) ?? -1
        return .list(
          ListRef(try split(s, sep: sep?.isNone == true ? nil : sep, maxsplit: maxsplit).map(Value.string)))
      }
    case "rsplit":
      return method(name) { args in
        let sep = args.value(0, "sep")
        let maxsplit = args.value(1, "maxsplit").flatMap(Operators.intValue) ?? -1
        if maxsplit < 0 {
          return .list(
            ListRef(try split(s, sep: sep?.isNone == true ? nil : sep, maxsplit: -1).map(Value.string)))
        }
        // Split the reversed text with the reversed separator, then reverse back.
        let reversed = String(String.UnicodeScalarView(s.unicodeScalars.reversed()))
        var revSep: Value?
        if case .string(let t)? = sep {
          revSep = .string(String(String.UnicodeScalarView(t.unicodeScalars.reversed())))
        }
        let parts = try split(reversed, sep: revSep, maxsplit: maxsplit)
        return .list(
          ListRef(
            parts.reversed().map { .string(String(String.UnicodeScalarView($0.unicodeScalars.reversed()))) }))
      }
    case "splitlines":
      return method(name) { _ in
        var lines = try split(
          s.replacingAll("\r\n", "\n").replacingAll("\r", "\n"), sep: .string("\n"), maxsplit: -1)
        if lines.last == "" { lines.removeLast() }
        return .list(ListRef(lines.map(Value.string)))
      }
    case "replace":
      return method(name) { args in
        guard case .string(let old)? = args.value(0, "old"), case .string(let new)? = args.value(1, "new")
        else {
          throw JinjaError(.type, "replace() arguments must be str")
        }
        let count = args.value(2, "count").flatMap(Operators.intValue) ?? -1
        return .string(replace(s, old, new, count: count))
      }
    case "startswith":
      return method(name) { args in
        .bool(
          try prefixes(args.positional.first).contains { s.unicodeScalars.starts(with: $0.unicodeScalars) })
      }
    case "endswith":
      return method(name) { args in
        .bool(
          try prefixes(args.positional.first).contains {
            s.unicodeScalars.reversed().starts(with: $0.unicodeScalars.reversed())
          })
      }
    case "find", "index", "rfind", "rindex":
      return method(name) { args in
        guard case .string(let t)? = args.positional.first else {
          throw JinjaError(.type, "\(name)() argument must be str")
        }
        let hay = Array(s.unicodeScalars)
        let needle = Array(t.unicodeScalars)
        var found: Int?
        if name.hasPrefix("r") {
          var from = 0
          while let at = find(hay, needle, from: from) {
            found = at
            from = at + 1
            if from > hay.count { break }
          }
        } else {
          found = find(hay, needle)
        }
        if let found { return .int(found) }
        if name.hasSuffix("index") { throw JinjaError(.value, "substring not found") }
        return .int(-1)
      }
    case "count":
      return method(name) { args in
        guard case .string(let t)? = args.positional.first else {
          throw JinjaError(.type, "count() argument must be str")
        }
        let hay = Array(s.unicodeScalars)
        let needle = Array(t.unicodeScalars)
        if needle.isEmpty { return .int(hay.count + 1) }
        var n = 0
        var from = 0
        while let at = find(hay, needle, from: from) {
          n += 1
          from = at + needle.count
        }
        return .int(n)
      }
    case "join":
      return method(name) { args in
        let items = try iterateSimple(args.positional.first ?? .list([]))
        return .string(
          try items.map {
            guard case .string(let x) = $0 else {
              throw JinjaError(.type, "sequence item: expected str instance, \($0.typeName) found")
            }
            return x
          }.joined(separator: s))
      }
    case "format": return method(name) { args in .string(try Format.format(s, args)) }
    case "title": return method(name) { _ in .string(Filters.title(s)) }
    case "capitalize": return method(name) { _ in .string(Filters.capitalize(s)) }
    case "isdigit", "isnumeric", "isdecimal":
      return method(name) { _ in
        .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil })
      }
    case "isalpha":
      return method(name) { _ in
        .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
      }
    case "isalnum":
      return method(name) { _ in
        .bool(
          !s.isEmpty
            && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
      }
    case "isspace":
      return method(name) { _ in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPythonSpace)) }
    case "isupper":
      return method(name) { _ in
        .bool(s.unicodeScalars.contains { $0.properties.isCased } && s.uppercased() == s)
      }
    case "islower":
      return method(name) { _ in
        .bool(s.unicodeScalars.contains { $0.properties.isCased } && s.lowercased() == s)
      }
    case "zfill":
      return method(name) { args in
        let width = args.positional.first.flatMap(Operators.intValue) ?? 0
        var scalars = Array(s.unicodeScalars)
        guard scalars.count < width else { return .string(s) }
        var sign: [Unicode.Scalar] = []
        if let f = scalars.first, f == "-" || f == "+" {
          sign = [f]
          scalars.removeFirst()
        }
        let pad = [Unicode.Scalar](repeating: "0", count: width - scalars.count - sign.count)
        return .string(string((sign + pad + scalars)[...]))
      }
    case "ljust", "rjust", "center":
      return method(name) { args in
        let width = args.positional.first.flatMap(Operators.intValue) ?? 0
        let fill = args.positional.count > 1 ? args.positional[1].str : " "
        let n = s.unicodeScalars.count
        guard width > n else { return .string(s) }
        let total = width - n
        switch name {
        case "ljust": return .string(s + String(repeating: fill, count: total))
        case "rjust": return .string(String(repeating: fill, count: total) + s)
        default:
          let left = total / 2 + (total & width & 1)
          return .string(
            String(repeating: fill, count: left) + s + String(repeating: fill, count: total - left))
        }
      }
    case "partition", "rpartition":
      return method(name) { args in
        guard case .string(let sep)? = args.positional.first, !sep.isEmpty else {
          throw JinjaError(.value, "empty separator")
        }
        let parts = name == "partition" ? try split(s, sep: .string(sep), maxsplit: 1) : []
        if name == "partition" {
          if parts.count == 2 { return .tuple([.string(parts[0]), .string(sep), .string(parts[1])]) }
          return .tuple([.string(s), .string(""), .string("")])
        }
        let hay = Array(s.unicodeScalars)
        let needle = Array(sep.unicodeScalars)
        var last: Int?
        var from = 0
        while let at = find(hay, needle, from: from) {
          last = at
          from = at + 1
        }
        guard let at = last else { return .tuple([.string(""), .string(""), .string(s)]) }
        return .tuple([
          .string(string(hay[..<at])), .string(sep), .string(string(hay[(at + needle.count)...])),
        ])
      }
    case "swapcase":
      return method(name) { _ in
        .string(
          String(
            s.map { c -> String in
              let t = String(c)
              return t.uppercased() == t ? t.lowercased() : t.uppercased()
            }.joined()))
      }
    default: return nil
    }
  }
}

/// Python's `str.format`: `{}`, `{0}`, `{name}`, `{0[key]}`/`{0.attr}`, `!r`/`!s`, and format specs
/// with fill, alignment, sign, width, `,`, precision and the `s d f %` types.
enum Format {
  static func format(_ template: String, _ args: Arguments) throws -> String {
    var out = ""
    var auto = 0
    let scalars = Array(template.unicodeScalars)
    var i = 0
    while i < scalars.count {
      let c = scalars[i]
      if c == "{" {
        if i + 1 < scalars.count && scalars[i + 1] == "{" {
          out += "{"
          i += 2
          continue
        }
        guard let close = scalars[i...].firstIndex(of: "}") else {
          throw JinjaError(.value, "single '{' encountered in format string")
        }
        let field = Attributes.string(scalars[(i + 1)..<close])
        i = close + 1
        var name = field
        var spec = ""
        var conversion: Character?
        if let colon = name.firstIndex(of: ":") {
          spec = String(name[name.index(after: colon)...])
          name = String(name[..<colon])
        }
        if let bang = name.firstIndex(of: "!") {
          conversion = name[name.index(after: bang)...].first
          name = String(name[..<bang])
        }
        // Field name: first part, then .attr / [key] accessors.
        var head = name
        var rest = ""
        if let cut = name.firstIndex(where: { $0 == "." || $0 == "[" }) {
          head = String(name[..<cut])
          rest = String(name[cut...])
        }
        var value: Value
        if head.isEmpty {
          guard auto < args.positional.count else {
            throw JinjaError(.value, "replacement index \(auto) out of range")
          }
          value = args.positional[auto]
          auto += 1
        } else if let n = Int(head) {
          guard n < args.positional.count else {
            throw JinjaError(.value, "replacement index \(n) out of range")
          }
          value = args.positional[n]
        } else {
          guard let v = args.keyword(head) else { throw JinjaError(.value, "missing format key '\(head)'") }
          value = v
        }
        while !rest.isEmpty {
          if rest.hasPrefix(".") {
            rest.removeFirst()
            let end = rest.firstIndex(where: { $0 == "." || $0 == "[" }) ?? rest.endIndex
            let attr = String(rest[..<end])
            rest = String(rest[end...])
            if case .dict(let d) = value {
              value = d.get(attr) ?? .undefined(attr)
            } else if case .object(let o) = value {
              value = o.attribute(attr) ?? .undefined(attr)
            } else {
              throw JinjaError(.unsupported, "format field '\(name)' is not supported")
            }
          } else if rest.hasPrefix("[") {
            guard let end = rest.firstIndex(of: "]") else {
              throw JinjaError(.value, "missing ']' in format string")
            }
            let key = String(rest[rest.index(after: rest.startIndex)..<end])
            rest = String(rest[rest.index(after: end)...])
            let keyValue: Value = Int(key).map { .int($0) } ?? .string(key)
            switch value {
            case .dict(let d): value = d.get(keyValue) ?? .undefined(key)
            case .list(let l):
              guard let k = Operators.intValue(keyValue),
                let j = Operators.normalizeIndex(k, count: l.items.count)
              else { throw JinjaError(.value, "list index out of range") }
              value = l.items[j]
            case .tuple(let t):
              guard let k = Operators.intValue(keyValue), let j = Operators.normalizeIndex(k, count: t.count)
              else {
                throw JinjaError(.value, "tuple index out of range")
              }
              value = t[j]
            default: throw JinjaError(.unsupported, "format field '\(name)' is not supported")
            }
          } else {
            break
          }
        }
        if conversion == "r" {
          value = .string(value.repr)
        } else if conversion == "s" {
          value = .string(value.str)
        }
        out += try formatValue(value, spec: spec)
        continue
      }
      if c == "}" {
        if i + 1 < scalars.count && scalars[i + 1] == "}" {
          out += "}"
          i += 2
          continue
        }
        throw JinjaError(.value, "single '}' encountered in format string")
      }
      out.unicodeScalars.append(c)
      i += 1
    }
    return out
  }

  /// A Python format spec: `[[fill]align][sign][0][width][,][.precision][type]`.
  static func formatValue(_ value: Value, spec: String) throws -> String {
    if spec.isEmpty { return value.str }
    var s = Array(spec.unicodeScalars)[...]
    var fill: Unicode.Scalar = " "
    var align: Unicode.Scalar?
    let aligns: Set<Unicode.Scalar> = ["<", ">", "^", "="]
    if s.count >= 2, aligns.contains(s[s.startIndex + 1]) {
      fill = s[s.startIndex]
      align = s[s.startIndex + 1]
      s = s.dropFirst(2)
    } else if let f = s.first, aligns.contains(f) {
      align = f
      s = s.dropFirst()
    }
    var sign: Unicode.Scalar?
    if let f = s.first, f == "+" || f == "-" || f == " " {
      sign = f
      s = s.dropFirst()
    }
    if s.first == "0" {
      fill = "0"
      if align == nil { align = "=" }
      s = s.dropFirst()
    }
    var width = 0
    while let d = s.first, d.isASCII, d.properties.numericType != nil {
      width = width * 10 + Int(d.value - 48)
      s = s.dropFirst()
    }
    var grouping = false
    if s.first == "," {
      grouping = true
      s = s.dropFirst()
    }
    var precision: Int?
    if s.first == "." {
      s = s.dropFirst()
      var p = 0
      while let d = s.first, d.isASCII, d.properties.numericType != nil {
        p = p * 10 + Int(d.value - 48)
        s = s.dropFirst()
      }
      precision = p
    }
    let type = s.first
    if s.count > 1 { throw JinjaError(.unsupported, "format spec '\(spec)' is not supported") }
    var body: String
    var isNumber = false
    switch (type, value) {
    case (nil, .string(let text)), ("s", .string(let text)):
      body = precision.map { Attributes.string(Array(text.unicodeScalars).prefix($0)) } ?? text
    case ("d", _), (nil, .int), (nil, .bool):
      guard let i = Operators.intValue(value) else {
        throw JinjaError(.value, "unknown format code 'd' for object of type '\(value.typeName)'")
      }
      isNumber = true
      body = String(abs(i))
      if grouping { body = group(body) }
      if i < 0 {
        body = "-" + body
      } else if sign == "+" {
        body = "+" + body
      } else if sign == " " {
        body = " " + body
      }
    case ("f", _), ("F", _), ("%", _), (nil, .double):
      guard let n = Operators.number(value) else {
        throw JinjaError(.value, "unknown format code 'f' for object of type '\(value.typeName)'")
      }
      isNumber = true
      var d = n.double
      if type == "%" { d *= 100 }
      if type == nil && precision == nil {
        body = pythonFloat(abs(d))
      } else {
        body = Filters.fixed(abs(d), precision ?? 6)
      }
      if grouping {
        let parts = body.split(separator: ".", maxSplits: 1).map(String.init)
        body = group(parts[0]) + (parts.count > 1 ? "." + parts[1] : "")
      }
      if type == "%" { body += "%" }
      if d < 0 || (d == 0 && d.sign == .minus) {
        body = "-" + body
      } else if sign == "+" {
        body = "+" + body
      } else if sign == " " {
        body = " " + body
      }
    default:
      throw JinjaError(.unsupported, "format spec '\(spec)' for \(value.typeName) is not supported")
    }
    let n = body.unicodeScalars.count
    guard width > n else { return body }
    let pad = width - n
    let fillText = String(fill)
    switch align ?? (isNumber ? ">" : "<") {
    case "<": return body + String(repeating: fillText, count: pad)
    case "^":
      let left = pad / 2
      return String(repeating: fillText, count: left) + body + String(repeating: fillText, count: pad - left)
    case "=":
      if let f = body.first, f == "-" || f == "+" || f == " " {
        return String(f) + String(repeating: fillText, count: pad) + body.dropFirst()
      }
      return String(repeating: fillText, count: pad) + body
    default: return String(repeating: fillText, count: pad) + body
    }
  }

  static func group(_ digits: String) -> String {
    var out: [Character] = []
    for (i, c) in digits.reversed().enumerated() {
      if i > 0 && i % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return String(out.reversed())
  }
}
