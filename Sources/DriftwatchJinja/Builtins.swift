/// Jinja2's default globals: `range`, `dict`, `namespace`, `cycler`, `joiner` (`lipsum` is unsupported).
enum Builtins {
  static func global(_ name: String, renderer: Renderer) -> Value? {
    switch name {
    case "range":
      return .function(
        Function("range") { args in
          let ints = try args.positional.map { v -> Int in
            guard let i = Operators.intValue(v) else {
              throw JinjaError(.type, "'\(v.typeName)' object cannot be interpreted as an integer")
            }
            return i
          }
          var start = 0
          var stop = 0
          var step = 1
          switch ints.count {
          case 1: stop = ints[0]
          case 2: (start, stop) = (ints[0], ints[1])
          case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
          default: throw JinjaError(.type, "range expected 1 to 3 arguments, got \(ints.count)")
          }
          if step == 0 { throw JinjaError(.value, "range() arg 3 must not be zero") }
          let items = Array(stride(from: start, to: stop, by: step))
          // Jinja's sandbox limit.
          if items.count > 100_000 {
            throw JinjaError(.value, "range too big, maximum size for range is 100000")
          }
          return .list(ListRef(items.map(Value.int)))
        })
    case "dict":
      return .function(
        Function("dict") { args in
          let d = DictRef()
          if let first = args.positional.first {
            switch first {
            case .dict(let other): for e in other.entries { d.set(e.key, e.value) }
            default:
              for pair in try Attributes.iterateSimple(first) {
                let kv = try Attributes.iterateSimple(pair)
                guard kv.count == 2 else {
                  throw JinjaError(.value, "dictionary update sequence element has wrong length")
                }
                try d.setChecked(kv[0], kv[1])
              }
            }
          }
          for (k, v) in args.keywords { d.set(.string(k), v) }
          return .dict(d)
        })
    case "namespace":
      return .function(
        Function("namespace") { args in
          let d = DictRef()
          if case .dict(let other)? = args.positional.first {
            for e in other.entries { d.set(e.key, e.value) }
          }
          for (k, v) in args.keywords { d.set(.string(k), v) }
          return .object(Namespace(d))
        })
    case "cycler":
      return .function(Function("cycler") { args in .object(Cycler(args.positional)) })
    case "joiner":
      return .function(
        Function("joiner") { args in
          let sep = args.value(0, "sep")?.str ?? ", "
          var used = false
          return .function(
            Function("joiner") { _ in
              if used { return .string(sep) }
              used = true
              return .string("")
            })
        })
    case "lipsum":
      return .function(
        Function("lipsum") { _ in throw JinjaError(.unsupported, "the global 'lipsum' is not supported") })
    default: return nil
    }
  }
}

final class Cycler: JinjaObject {
  let items: [Value]
  var position = 0
  init(_ items: [Value]) { self.items = items }
  var typeName: String { "Cycler" }
  func attribute(_ name: String) -> Value? {
    switch name {
    case "current": return items.isEmpty ? .undefined("current") : items[position]
    case "next":
      return .function(
        Function("next") { [weak self] _ in
          guard let self, !self.items.isEmpty else { return .undefined("next") }
          let v = self.items[self.position]
          self.position = (self.position + 1) % self.items.count
          return v
        })
    case "reset":
      return .function(
        Function("reset") { [weak self] _ in
          self?.position = 0
          return .none
        })
    default: return nil
    }
  }
}
