/// Which columns a model's SQL reads, told from its text without a full SQL parser.
///
/// Conservative by design: a name that appears as an identifier anywhere in the SQL counts as read, and
/// `select *`, `t.*` or a `star(` macro means every column is read.
public struct ColumnUsage: Sendable, Hashable {
  public var identifiers: Set<String>
  public var readsEverything: Bool

  public init(sql: String) {
    var identifiers = Set<String>()
    var readsEverything = false
    let scalars = Array(sql.unicodeScalars)
    var index = 0
    var previousWord = ""
    var previousSymbol: Unicode.Scalar?
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
      } else if c == "-" && next == "-" {  // SQL line comment
        while index < scalars.count, scalars[index] != "\n" { index += 1 }
      } else if c == "/" && next == "*" {
        index += 2
        while index + 1 < scalars.count, !(scalars[index] == "*" && scalars[index + 1] == "/") { index += 1 }
        index += 2
      } else if c == "'" {  // string literal: values, not identifiers
        index += 1
        while index < scalars.count {
          if scalars[index] == "'" {
            if index + 1 < scalars.count, scalars[index + 1] == "'" {
              index += 2
              continue
            }
            break
          }
          index += 1
        }
        index += 1
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
        if !c.properties.isWhitespace { previousSymbol = c }
        index += 1
      }
    }
    self.identifiers = identifiers
    self.readsEverything = readsEverything
  }

  public func reads(column: String) -> Bool {
    readsEverything || identifiers.contains(column.lowercased())
  }
}
