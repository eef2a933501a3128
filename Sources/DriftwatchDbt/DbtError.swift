import DriftwatchCore

/// A dbt input driftwatch cannot read: a missing or broken project file, a ref to nothing, a profile it
/// cannot use. The message names the file (and line and column when known) and says what to do.
public struct DbtError: UserFacingError, Equatable {
  public var message: String
  /// The file at fault, as given or relative to the project root.
  public var file: String?
  public var line: Int?
  public var column: Int?

  /// `problem` is lowercase and ends with what to do; the location is prefixed as `file:line:column: `.
  public init(_ problem: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
    self.file = file
    self.line = line
    self.column = column
    var location = ""
    if let file {
      location = file
      if let line {
        location += ":\(line)"
        if let column { location += ":\(column)" }
      }
      location += ": "
    }
    self.message = location + problem
  }
}

/// How deep the readers follow nested input. Every reader that recurses (the YAML readers, the JSON value
/// reader, the template expression parser) stops at its limit with `DbtError.tooDeep`, so hostile input
/// (80,000 `[`) gives one line and exit 2 instead of exhausting the stack. dbt's own limits are lower or
/// similar: PyYAML's libyaml loader refuses 1,000 levels of YAML, Python's `json` about 1,000 levels of
/// JSON, and Jinja2 a template expression nested about 70 parentheses deep.
enum NestingLimit {
  /// YAML collections and JSON arrays and objects inside one another.
  static let documents = 512
  /// Parentheses and calls inside one another in a `{{ … }}` expression.
  static let expressions = 100
}

extension DbtError {
  /// Input nested deeper than `limit` levels: what, where, and what to do.
  static func tooDeep(
    _ what: String, limit: Int, file: String?, line: Int? = nil, column: Int? = nil, near: String? = nil
  ) -> DbtError {
    DbtError(
      "\(what) nests deeper than \(limit) levels\(near.map { " at \($0)" } ?? ""); flatten it",
      file: file, line: line, column: column)
  }
}

extension DbtError {
  /// dbt's refusal of a dependency cycle (`Found a cycle: a --> b`), with what to do.
  static func cycle(_ ids: [String], file: String? = nil) -> DbtError {
    DbtError(
      "found a cycle: \(ids.joined(separator: " --> ")) --> \(ids[0]); dbt refuses to run a project with a "
        + "cycle: remove one of these refs",
      file: file)
  }
}
