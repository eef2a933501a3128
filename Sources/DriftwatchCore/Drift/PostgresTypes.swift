/// What a profile may do with a PostgreSQL column type (as `format_type` names it), shared by the native
/// driver and the dbt bridge on dbt-postgres so that both profile a column the same way.
public enum PostgresTypes {
  /// Types with their own `min`/`max` (directly or through an implicit cast to text, as `name`); others
  /// are ordered as text. Not `uuid` (PostgreSQL 15 has no `min(uuid)`), not arrays.
  public static func isOrderable(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    if type.hasSuffix("[]") { return false }
    let prefixes = [
      "smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision", "money", "character",
      "text", "varchar", "char", "date", "time", "interval", "inet", "cidr", "name", "citext", "oid",
    ]
    return prefixes.contains { type.hasPrefix($0) }
  }

  /// Numeric types, whose average absolute value (`meanMagnitude`) a profile keeps for scale changes.
  public static func isNumeric(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    if type.hasSuffix("[]") { return false }
    return ["smallint", "integer", "bigint", "numeric", "decimal", "real", "double precision"].contains {
      type.hasPrefix($0)
    }
  }

  /// Text types (and arrays of them, as the native driver always counted them), whose shapes and shape
  /// classes a profile counts.
  public static func isString(_ dataType: String) -> Bool {
    let type = dataType.lowercased()
    return type.hasPrefix("text") || type.hasPrefix("character") || type.hasPrefix("citext")
  }
}
