/// Pieces the column scanners (`ColumnUsage`, `ColumnReferences`, `SilentNulls`) share over a SQL text's
/// unicode scalars.
enum SQLScan {
  /// Just past the `'…'` literal that opens at `start` (a doubled `''` is a quote inside it); the end of
  /// `scalars` when it is not closed.
  static func end(ofStringLiteralAt start: Int, in scalars: [Unicode.Scalar]) -> Int {
    var index = start + 1
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
    return index + 1
  }
}
