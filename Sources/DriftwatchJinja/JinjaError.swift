/// Every failure of the engine: what kind, where (file, line) and in which construct.
///
/// `kind == .unsupported` means the engine lacks the construct (a tag, filter, test or method it does not
/// implement): the caller should mark the node incomplete rather than guess.
public struct JinjaError: Error, Equatable, CustomStringConvertible, Sendable {
  public enum Kind: String, Sendable, Equatable {
    /// The template does not parse.
    case syntax
    /// A construct the engine does not implement.
    case unsupported
    /// A value of the wrong type (`1 + 'a'`, calling a string, an unhashable key).
    case type
    /// A bad value (`int('x')`, division by zero, a missing key in `.index()`).
    case value
    /// An undefined value used where it cannot be (`undefined + 1`, a missing macro).
    case undefined
    /// A template raised it (`exceptions.raise_compiler_error`, `env_var` without a default).
    case raised
  }

  public var kind: Kind
  /// What went wrong, lowercase, without the location.
  public var detail: String
  public var file: String?
  public var line: Int?
  /// The construct being evaluated (`{% for %}`, `filter 'map'`, `macro 'star'`), when known.
  public var construct: String?

  public init(_ kind: Kind, _ detail: String, file: String? = nil, line: Int? = nil, construct: String? = nil)
  {
    self.kind = kind
    self.detail = detail
    self.file = file
    self.line = line
    self.construct = construct
  }

  /// One line: `models/a.sql:12: unsupported: recursive for loops (in {% for %})`.
  public var message: String {
    var out = ""
    if let file { out += file + ":" }
    if let line { out += "\(line):" }
    if !out.isEmpty { out += " " }
    out += kind.rawValue + ": " + detail
    if let construct { out += " (in \(construct))" }
    return out
  }

  public var description: String { message }

  func located(file: String?, line: Int, construct: String?) -> JinjaError {
    var copy = self
    if copy.file == nil { copy.file = file }
    if copy.line == nil { copy.line = line }
    if copy.construct == nil { copy.construct = construct }
    return copy
  }
}
