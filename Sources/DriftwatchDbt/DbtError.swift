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
