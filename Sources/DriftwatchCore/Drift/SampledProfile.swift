/// Profiles of large tables read from a bounded sample of their rows: when to sample, how much, and how a
/// sample's counts are scaled to the table. One rule for every warehouse (the native PostgreSQL driver and
/// the dbt bridge's adapters), so a table is sampled, and its profile marked estimated, the same way
/// whichever way it is read.
public struct TableEstimate: Sendable, Hashable {
  /// Estimated rows (from the warehouse's statistics or a count); negative when unknown (never analyzed).
  public var rows: Double
  /// Per column (by its name in the warehouse): what the statistics say, when they say something.
  public var columns: [String: ColumnStatistics]

  public struct ColumnStatistics: Sendable, Hashable {
    /// Share of rows that are NULL.
    public var nullFraction: Double
    /// Distinct values: a count when ≥ 0, else minus a share of the rows (PostgreSQL's `n_distinct`).
    public var distinct: Double

    public init(nullFraction: Double, distinct: Double) {
      self.nullFraction = nullFraction
      self.distinct = distinct
    }
  }

  public init(rows: Double, columns: [String: ColumnStatistics] = [:]) {
    self.rows = rows
    self.columns = columns
  }

  /// The default row budget: a table above twice this many rows is large; its profile reads a sample of
  /// about this many rows and scales the counts. Time then stays flat as tables grow.
  public static let defaultRowBudget = 50_000.0

  /// The percentage of the table to sample to read about `budget` rows (between 0.01 and 100, rounded to
  /// six decimals so that every warehouse is given the same number), or nil to read the whole table.
  public func samplePercent(budget: Double) -> Double? {
    guard budget > 0, rows > 2 * budget else { return nil }
    let percent = max(0.01, min(100, 100 * budget / rows))
    return (percent * 1_000_000).rounded() / 1_000_000
  }
}

extension ColumnProfile {
  /// This profile, read from a sample of the table, scaled to the table `estimate` describes: counts by
  /// the sample's share, nulls and distinct values from the statistics of `columnName` when there are
  /// some (else nulls scaled and the sample's distinct count kept), and marked estimated.
  public func scaled(to estimate: TableEstimate, columnName: String) -> ColumnProfile {
    var profile = self
    let total = max(estimate.rows, Double(profile.rowCount))
    let scale = total / Double(max(profile.rowCount, 1))
    let scaled = { (counts: [ValueCount]) in
      counts.map { ValueCount(value: $0.value, count: Int((Double($0.count) * scale).rounded())) }
    }
    profile.topValues = scaled(profile.topValues)
    profile.topShapes = scaled(profile.topShapes ?? [])
    profile.shapeClasses = profile.shapeClasses.map(scaled)
    if let stats = estimate.columns[columnName] {
      profile.nullCount = Int((stats.nullFraction * total).rounded())
      profile.distinctCount = Int(
        (stats.distinct >= 0 ? stats.distinct : -stats.distinct * total).rounded())
    } else {
      profile.nullCount = Int((Double(profile.nullCount) * scale).rounded())
    }
    profile.rowCount = Int(total.rounded())
    profile.estimated = true
    return profile
  }
}
