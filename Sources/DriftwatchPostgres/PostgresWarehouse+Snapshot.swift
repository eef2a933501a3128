import DriftwatchCore
import PostgresNIO

extension PostgresWarehouse: SnapshotTableReading {
  /// A reader on its own read-only connection (`default_transaction_read_only`), kept open for every table
  /// it reads; each table is read in its own read-only transaction with the snapshot's timeouts, so that no
  /// lock is held from one table to the next.
  public func withTableReader<T: Sendable>(_ body: (any SnapshotTableReader) async throws -> T) async throws
    -> T
  {
    try await withReadOnlyConnection { session in
      try await body(TableReader(session: session, rowBudget: rowBudget))
    }
  }

  /// One table's profile and keyed sample: its columns and statistics in one catalog statement (no read of
  /// the whole schema's catalog), the profile statement, the sample statement.
  struct TableReader: SnapshotTableReader {
    var session: ReadOnlySession
    var rowBudget: Double

    func read(
      table: TableRef, columns: [ColumnRef], sample: SnapshotPlan.SampleTarget?, topK: Int, sampleSize: Int
    ) async throws -> (profiles: [ColumnProfile], sample: [KeyedRow]?) {
      try await session.inReadOnlyTransaction {
        guard let found = try await session.table(schema: table.schema.schema, name: table.name) else {
          return ([], nil)
        }
        var profiled: [(ref: ColumnRef, column: LiveColumn)] = []
        for ref in columns {
          guard let column = found.column(ref.column) else { continue }
          if !profiled.contains(where: { $0.ref == ref }) { profiled.append((ref, column)) }
        }
        let profiles = try await session.profileTable(
          schema: found.schema, table: found.name, columns: profiled, topK: max(0, topK),
          estimate: found.estimate, budget: rowBudget)
        guard let sample,
          let resolved = PostgresWarehouse.resolved(
            schema: found.schema, table: found.name, in: found.columns, key: sample.key,
            columns: sample.columns)
        else { return (profiles, nil) }
        let rows = try await PostgresWarehouse.sample(
          resolved, limit: sampleSize, estimate: found.estimate, rowBudget: rowBudget, on: session)
        return (profiles, rows)
      }
    }
  }

  /// A table as one catalog statement finds it: the names in the database, its columns, its statistics.
  struct FoundTable: Sendable {
    var schema: String
    var name: String
    var columns: [LiveColumn]
    var estimate: TableEstimate

    /// The live column `name` names: exact first, then ignoring case.
    func column(_ name: String) -> LiveColumn? {
      columns.first { $0.name == name } ?? columns.first { $0.name.lowercased() == name.lowercased() }
    }
  }
}

extension PostgresWarehouse.ReadOnlySession {
  /// The table `name` in schema `schema` (exactly, else its lowercase form, as `introspect` resolves
  /// schemas), with its columns and statistics (`reltuples`, `pg_stats`); nil when it does not exist.
  func table(schema: String, name: String) async throws -> PostgresWarehouse.FoundTable? {
    let lowered = schema.lowercased()
    let rows = try await query(
      """
      SELECT n.nspname::text, c.reltuples::float8, a.attname::text, a.attnum::int4,
        pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, s.null_frac::float8, s.n_distinct::float8
      FROM pg_catalog.pg_namespace n
      JOIN pg_catalog.pg_class c
        ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_stats s
        ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
      WHERE n.nspname IN (\(schema), \(lowered)) AND c.relname = \(name)
      ORDER BY a.attnum
      """, reading: TableLock(schema: schema, table: name))
    var found: [String: PostgresWarehouse.FoundTable] = [:]
    do {
      for row in rows {
        let (nspname, tuples, column, position, dataType, notNull, nullFraction, distinct) = try row.decode(
          (String, Double, String, Int32, String, Bool, Double?, Double?).self)
        var table =
          found[nspname]
          ?? PostgresWarehouse.FoundTable(
            schema: nspname, name: name, columns: [],
            estimate: PostgresWarehouse.TableEstimate(rows: tuples, columns: [:]))
        if !table.columns.contains(where: { $0.name == column }) {
          table.columns.append(
            LiveColumn(
              name: column, dataType: dataType, position: Int(position), isKey: false, isNullable: !notNull))
        }
        if let nullFraction, let distinct {
          table.estimate.columns[column] = .init(nullFraction: nullFraction, distinct: distinct)
        }
        found[nspname] = table
      }
    } catch {
      throw WarehouseError(
        .queryFailed,
        "cannot read the catalog of \(schema).\(name) from \(locator.displayURL): unexpected column types; please report this"
      )
    }
    return found[schema] ?? found[lowered]
  }
}
