import Foundation

/// Renders the little Jinja that dbt users put in YAML values and profiles: `{{ env_var('X') }}`,
/// `{{ env_var('X', 'default') }}`, `{{ var('name', 'default') }}`, `{{ target.schema }}`, string
/// literals and `~` concatenation. Filters (`| int`, `| as_number`, `| lower`, …) are accepted and
/// ignored, except `lower`, `upper` and `trim`, which are applied. Anything else (`{% if %}`, macros) is
/// reported as unsupported rather than guessed at.
struct TemplateContext: Sendable {
  var environment: [String: String]
  /// `var()` values, already scoped to the package being read.
  var vars: [String: String] = [:]
  /// `target.*` attributes, when known (`name`, `schema`, `database`, `type`, …).
  var target: [String: String] = [:]
}

struct TemplateError: Error, Equatable {
  var problem: String
  /// Set when the template names an environment variable that is not set and has no default.
  var missingVariable: String?
  /// Set when the template reads a `var()` that has no value and no default (dbt fails on it too).
  var missingVar: String? = nil
}

enum TemplateRenderer {
  /// Renders every `{{ … }}` in `text`; text without `{` comes back unchanged.
  static func render(_ text: String, context: TemplateContext) throws(TemplateError) -> String {
    guard text.contains("{") else { return text }
    let characters = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    var index = 0
    while index < characters.count {
      let scalar = characters[index]
      if scalar == "{", index + 1 < characters.count {
        let next = characters[index + 1]
        if next == "{" {
          guard let close = findClose(characters, from: index + 2, closer: "}") else {
            throw TemplateError(problem: "unterminated `{{` in `\(text)`")
          }
          var parser = ExpressionParser(characters: Array(characters[(index + 2)..<close]), context: context)
          output.append(contentsOf: try parser.parseAll().unicodeScalars)
          index = close + 2
          continue
        }
        if next == "#" {
          guard let close = findClose(characters, from: index + 2, closer: "#") else {
            throw TemplateError(problem: "unterminated `{#` in `\(text)`")
          }
          index = close + 2
          continue
        }
        if next == "%" {
          throw TemplateError(problem: "jinja statements (`{% … %}`) are not supported in `\(text)`")
        }
      }
      output.append(scalar)
      index += 1
    }
    return String(output)
  }

  /// Index of `closer}` at or after `from`, skipping quoted strings.
  private static func findClose(_ characters: [Unicode.Scalar], from start: Int, closer: Unicode.Scalar)
    -> Int?
  {
    var index = start
    var quote: Unicode.Scalar?
    while index < characters.count {
      let scalar = characters[index]
      if let open = quote {
        if scalar == "\\" {
          index += 2
          continue
        }
        if scalar == open { quote = nil }
      } else if scalar == "'" || scalar == "\"" {
        quote = scalar
      } else if scalar == closer, index + 1 < characters.count, characters[index + 1] == "}" {
        return index
      }
      index += 1
    }
    return nil
  }
}

private struct ExpressionParser {
  let characters: [Unicode.Scalar]
  let context: TemplateContext
  var index = 0
  /// Expressions open around `index` (parentheses, call arguments): `parseExpression` recurses once per
  /// level, up to `NestingLimit.expressions`.
  var depth = 0

  init(characters: [Unicode.Scalar], context: TemplateContext) {
    var trimmed = characters
    // Whitespace control: `{{- … -}}`.
    if trimmed.first == "-" || trimmed.first == "+" { trimmed.removeFirst() }
    if trimmed.last == "-" || trimmed.last == "+" { trimmed.removeLast() }
    self.characters = trimmed
    self.context = context
  }

  var source: String { String(String.UnicodeScalarView(characters)) }

  mutating func parseAll() throws(TemplateError) -> String {
    let value = try parseExpression()
    skipSpaces()
    guard index >= characters.count else { throw unsupported() }
    return value ?? ""
  }

  func unsupported() -> TemplateError {
    TemplateError(
      problem: "`{{\(source)}}` uses jinja driftwatch does not evaluate (it reads env_var(), var(), target.* "
        + "and string literals)")
  }

  mutating func skipSpaces() {
    while index < characters.count, characters[index].properties.isWhitespace { index += 1 }
  }

  mutating func peek() -> Unicode.Scalar? {
    skipSpaces()
    return index < characters.count ? characters[index] : nil
  }

  /// expression := term (('~' | '+') term)* ('|' filter)*
  mutating func parseExpression() throws(TemplateError) -> String? {
    depth += 1
    defer { depth -= 1 }
    if depth > NestingLimit.expressions {
      // Not quoting the expression: it is as long as the nesting.
      throw TemplateError(
        problem: "the `{{ … }}` expression nests deeper than \(NestingLimit.expressions) levels; flatten it")
    }
    var value = try parseTerm()
    while let next = peek(), next == "~" || next == "+" {
      index += 1
      let right = try parseTerm()
      value = (value ?? "") + (right ?? "")
    }
    while peek() == "|" {
      index += 1
      skipSpaces()
      guard let filter = identifier() else { throw unsupported() }
      if peek() == "(" { _ = try arguments() }
      switch filter {
      case "lower": value = value?.lowercased()
      case "upper": value = value?.uppercased()
      case "trim": value = value?.trimmingCharacters(in: .whitespacesAndNewlines)
      default: break
      }
    }
    return value
  }

  mutating func identifier() -> String? {
    skipSpaces()
    let start = index
    while index < characters.count {
      let scalar = characters[index]
      let isLetter = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || scalar == "_"
      let isDigit = scalar >= "0" && scalar <= "9"
      if isLetter || (isDigit && index > start) {
        index += 1
      } else {
        break
      }
    }
    return index > start ? String(String.UnicodeScalarView(characters[start..<index])) : nil
  }

  mutating func stringLiteral() throws(TemplateError) -> String? {
    guard let quote = peek(), quote == "'" || quote == "\"" else { return nil }
    index += 1
    var output = String.UnicodeScalarView()
    while index < characters.count {
      let scalar = characters[index]
      if scalar == "\\", index + 1 < characters.count {
        let next = characters[index + 1]
        switch next {
        case "n": output.append("\n")
        case "t": output.append("\t")
        default: output.append(next)
        }
        index += 2
        continue
      }
      if scalar == quote {
        index += 1
        return String(output)
      }
      output.append(scalar)
      index += 1
    }
    throw unsupported()
  }

  /// `( expr, name=expr, … )` → positional values and keyword values.
  mutating func arguments() throws(TemplateError) -> (positional: [String?], keywords: [String: String?]) {
    guard peek() == "(" else { throw unsupported() }
    index += 1
    var positional: [String?] = []
    var keywords: [String: String?] = [:]
    if peek() == ")" {
      index += 1
      return (positional, keywords)
    }
    while true {
      let save = index
      if let name = identifier(), peek() == "=" {
        index += 1
        keywords[name] = try parseExpression()
      } else {
        index = save
        positional.append(try parseExpression())
      }
      guard let next = peek() else { throw unsupported() }
      index += 1
      if next == ")" { return (positional, keywords) }
      guard next == "," else { throw unsupported() }
    }
  }

  mutating func parseTerm() throws(TemplateError) -> String? {
    guard let next = peek() else { throw unsupported() }
    if next == "'" || next == "\"" { return try stringLiteral() }
    if next == "(" {
      index += 1
      let value = try parseExpression()
      guard peek() == ")" else { throw unsupported() }
      index += 1
      return value
    }
    if (next >= "0" && next <= "9") || next == "-" {
      let start = index
      index += 1
      while index < characters.count,
        (characters[index] >= "0" && characters[index] <= "9") || characters[index] == "."
      {
        index += 1
      }
      return String(String.UnicodeScalarView(characters[start..<index]))
    }
    guard let name = identifier() else { throw unsupported() }
    switch name {
    case "env_var":
      let (positional, keywords) = try arguments()
      guard let variable = positional.first ?? nil else { throw unsupported() }
      if let value = context.environment[variable] { return value }
      if positional.count > 1 { return positional[1] }
      if let fallback = keywords["default"] { return fallback }
      throw TemplateError(
        problem: "environment variable \(variable) is not set and has no default; set it, or give a default "
          + "with env_var('\(variable)', '…')",
        missingVariable: variable)
    case "var":
      let (positional, keywords) = try arguments()
      guard let variable = positional.first ?? nil else { throw unsupported() }
      if let value = context.vars[variable] { return value }
      if positional.count > 1 { return positional[1] }
      if let fallback = keywords["default"] { return fallback }
      throw TemplateError(
        problem:
          "var('\(variable)') has no value in dbt_project.yml `vars:` or --vars and no default; add it to "
          + "`vars:`, pass it with --vars, or give a default",
        missingVar: variable)
    case "target":
      guard peek() == "." else { throw unsupported() }
      index += 1
      guard let attribute = identifier() else { throw unsupported() }
      guard let value = context.target[attribute] else {
        throw TemplateError(
          problem: "`target.\(attribute)` is not known while reading project files; pass a manifest instead "
            + "(`dbt parse` writes target/manifest.json)")
      }
      return value
    case "none", "None": return nil
    case "true", "True": return "True"
    case "false", "False": return "False"
    default:
      throw unsupported()
    }
  }
}
