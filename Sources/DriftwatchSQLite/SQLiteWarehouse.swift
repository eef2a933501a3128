import DriftwatchCore
import SQLiteNIO

/// A SQLite file as a monitored warehouse. Opened read-only (`mode=ro`): driftwatch never writes to it and
/// never creates it (a missing file is an error), and a read creates no `-wal`/`-shm` beside it (see
/// `withReadOnlyConnection`). A path that is not a regular SQLite file is refused before SQLite opens it.
///
/// Schema mapping: a SQLite file has databases, not schemas. A requested schema whose name is one of
/// `attachments` (compared case-insensitively, as SQLite does) is read from that attached file; every other
/// requested schema name is read from `main`. So sources declared with `schema: raw` work on a single-file
/// warehouse, and a multi-file layout (as dbt-sqlite's `schemas_and_paths`) maps each schema to its file.
/// The returned tables carry the requested `SchemaRef`, so callers find them under the name they asked for.
public struct SQLiteWarehouse: WarehouseIntrospector {
  /// The main database file.
  public var path: String
  /// Schema name → file attached read-only under that name.
  public var attachments: [String: String]
  /// How long a read waits for another process's write lock on the file (SQLite's busy timeout; zero:
  /// as long as it is held).
  public var lockTimeout: Duration

  public init(path: String, attachments: [String: String] = [:], lockTimeout: Duration = .seconds(10)) {
    self.path = path
    self.attachments = attachments
    self.lockTimeout = lockTimeout
  }

  public var displayName: String { "sqlite:\(path)" }
  public var dialect: SQLDialect { .sqlite }

  public func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    let attached = try attachedDatabases()
    // Which database each requested schema reads from.
    let sourceDatabase: [SchemaRef: String] = Dictionary(
      schemas.map { ref in (ref, attached[ref.schema.lowercased()]?.name ?? "main") },
      uniquingKeysWith: { first, _ in first })
    let databases = Array(Set(sourceDatabase.values)).sorted()
    guard !databases.isEmpty else { return LiveSchema(inspected: [], tables: []) }

    let relations = try await withReadOnlyConnection(databases: databases, attached: attached) { connection in
      try await Self.readCatalog(
        connection, databases: databases, mainPath: path, attached: attached, lockTimeout: lockTimeout)
    }

    var tables: [LiveTable] = []
    for ref in schemas {
      let database = sourceDatabase[ref] ?? "main"
      for relation in relations where relation.database == database {
        tables.append(
          LiveTable(schema: ref, name: relation.name, kind: relation.kind, columns: relation.columns))
      }
    }
    return LiveSchema(inspected: schemas, tables: tables)
  }

  /// Opens the main file read-only, attaches the files of `databases` read-only, runs `body`, closes.
  /// Every file is checked first (`SQLiteFiles.inspect`: a regular file with the SQLite header); a WAL file
  /// without a `-wal` is read immutably and the read kept only if no writer changed the file meanwhile (else
  /// it is read again), so a read leaves no `-wal`/`-shm` behind and works in a read-only directory. A
  /// writer's lock is waited for `lockTimeout` at most.
  func withReadOnlyConnection<T: Sendable>(
    databases: [String], attached: [String: (name: String, path: String)],
    _ body: (SQLiteConnection) async throws -> T
  ) async throws -> T {
    for _ in 0..<3 {
      let main = try SQLiteFiles.inspect(path)
      var files = [main]
      var attachedFiles: [(name: String, file: SQLiteFiles.DatabaseFile)] = []
      for name in databases where name != "main" {
        guard let attachment = attached[name.lowercased()] else { continue }
        let file = try SQLiteFiles.inspect(attachment.path)
        attachedFiles.append((attachment.name, file))
        files.append(file)
      }
      let connection = try await SQLiteFiles.openForReading(main, lockTimeout: lockTimeout)
      let result = try await SQLiteFiles.using(connection) { connection in
        for (name, file) in attachedFiles {
          do {
            _ = try await SQLiteFiles.rows(
              connection, "ATTACH DATABASE ? AS ?", [.text(SQLiteFiles.readURI(file)), .text(name)])
          } catch let error as SQLiteError {
            throw SQLiteFiles.mapOpenError(error, path: file.path, isWAL: file.isWAL)
          }
        }
        do {
          return try await body(connection)
        } catch {
          throw readError(error) ?? error
        }
      }
      // An immutable read saw a consistent file only if nobody wrote to it meanwhile.
      if files.allSatisfy({ !$0.readsImmutably || SQLiteFiles.state($0.path) == $0.state }) {
        return result
      }
    }
    throw WarehouseError(
      .lockTimeout,
      "sqlite file '\(path)' changed three times while driftwatch read it (a writer checkpointing it); try again"
    )
  }

  /// The error for a failed read, naming the file: the main file's, or an attached one's when the message
  /// names it (SQLite's errors name neither).
  func readError(_ error: any Error) -> WarehouseError? {
    SQLiteFiles.readError(error, path: path, lockTimeout: lockTimeout)
  }

  /// The database (`main` or an attached name) a requested schema reads from.
  func database(for schema: SchemaRef, attached: [String: (name: String, path: String)]) -> String {
    attached[schema.schema.lowercased()]?.name ?? "main"
  }

  /// Lowercased schema name → (attached name, file).
  func attachedDatabases() throws -> [String: (name: String, path: String)] {
    var result: [String: (name: String, path: String)] = [:]
    for (name, file) in attachments {
      let key = name.lowercased()
      guard key != "main", key != "temp" else {
        throw WarehouseError(
          .invalidURL,
          "cannot attach '\(file)' as '\(name)': that name is reserved by sqlite; pick another schema name")
      }
      guard result[key] == nil else {
        throw WarehouseError(
          .invalidURL, "two sqlite files are attached as '\(name)' (names are case-insensitive): keep one")
      }
      result[key] = (name, file)
    }
    return result
  }

  private struct Relation: Sendable {
    var database: String
    var name: String
    var kind: RelationKind
    var columns: [LiveColumn]
  }

  private struct ColumnRow: Sendable {
    var database: String
    var relation: String
    var kind: RelationKind
    var cid: Int
    var name: String
    var dataType: String
    var notNull: Bool
    var primaryKeyIndex: Int
    var singleColumnUnique: Bool
  }

  /// Columns of every table and view of one database, all in one statement.
  /// `databaseParameter` is bound to the database's name; `relationParameter`, if any, to one relation's name.
  private static func columnsSelect(
    database: String, databaseParameter: Int, relationParameter: Int? = nil
  ) -> String {
    let db = "?\(databaseParameter)"
    return """
      SELECT m.name AS relation, m.type AS kind, c.cid AS cid, c.name AS column_name, c.type AS data_type,
        c."notnull" AS not_null, c.pk AS pk,
        EXISTS (
          SELECT 1 FROM pragma_index_list(m.name, \(db)) AS il
          WHERE il."unique" = 1 AND il.partial = 0
            AND (SELECT count(*) FROM pragma_index_info(il.name, \(db))) = 1
            AND (SELECT ii.name FROM pragma_index_info(il.name, \(db)) AS ii) = c.name
        ) AS single_unique,
        \(db) AS db
      FROM \(SQLiteFiles.quoted(database)).sqlite_schema AS m
      JOIN pragma_table_xinfo(m.name, \(db)) AS c
      WHERE m.type IN ('table', 'view') AND substr(m.name, 1, 7) <> 'sqlite_' AND c.hidden IN (0, 2, 3)
      \(relationParameter.map { "AND m.name = ?\($0)" } ?? "")
      """
  }

  private static func readCatalog(
    _ connection: SQLiteConnection, databases: [String], mainPath: String,
    attached: [String: (name: String, path: String)], lockTimeout: Duration
  ) async throws -> [Relation] {
    var rows: [ColumnRow] = []
    do {
      rows = try await catalogRows(connection, databases: databases)
    } catch {
      if SQLiteFiles.isNotADatabase(error) {
        throw SQLiteFiles.notADatabase(
          notADatabasePath(databases: databases, mainPath: mainPath, attached: attached))
      }
      // Locked, damaged, unreadable: reading relation by relation would only hide it.
      if let fileError = SQLiteFiles.readError(
        error, path: notADatabasePath(databases: databases, mainPath: mainPath, attached: attached),
        lockTimeout: lockTimeout)
      {
        throw fileError
      }
      // A view over a dropped table makes SQLite fail the whole query. Read relation by relation instead and
      // leave out the ones whose columns cannot be read.
      rows = try await rowsRelationByRelation(connection, databases: databases)
    }
    return relations(from: rows)
  }

  private static func catalogRows(_ connection: SQLiteConnection, databases: [String]) async throws
    -> [ColumnRow]
  {
    // The one catalog query: a UNION ALL over the databases needed; branch n binds its database name as ?n.
    let branches = databases.enumerated().map { offset, database in
      columnsSelect(database: database, databaseParameter: offset + 1)
    }
    let sql = branches.joined(separator: "\nUNION ALL\n") + "\nORDER BY db, relation, cid"
    return try await SQLiteFiles.rows(connection, sql, databases.map { .text($0) }).map(columnRow)
  }

  private static func rowsRelationByRelation(
    _ connection: SQLiteConnection, databases: [String]
  ) async throws -> [ColumnRow] {
    var rows: [ColumnRow] = []
    for database in databases {
      let names = try await SQLiteFiles.rows(
        connection,
        """
        SELECT name FROM \(SQLiteFiles.quoted(database)).sqlite_schema
        WHERE type IN ('table', 'view') AND substr(name, 1, 7) <> 'sqlite_' ORDER BY name
        """
      ).compactMap { $0.column("name")?.string }
      for name in names {
        let sql =
          columnsSelect(database: database, databaseParameter: 1, relationParameter: 2) + " ORDER BY cid"
        if let relationRows = try? await SQLiteFiles.rows(connection, sql, [.text(database), .text(name)]) {
          rows += relationRows.map(columnRow)
        }
      }
    }
    return rows
  }

  private static func columnRow(_ row: SQLiteRow) -> ColumnRow {
    ColumnRow(
      database: row.column("db")?.string ?? "main",
      relation: row.column("relation")?.string ?? "",
      kind: row.column("kind")?.string == "view" ? .view : .table,
      cid: row.column("cid")?.integer ?? 0,
      name: row.column("column_name")?.string ?? "",
      dataType: row.column("data_type")?.string ?? "",
      notNull: (row.column("not_null")?.integer ?? 0) != 0,
      primaryKeyIndex: row.column("pk")?.integer ?? 0,
      singleColumnUnique: (row.column("single_unique")?.integer ?? 0) != 0
    )
  }

  private static func relations(from rows: [ColumnRow]) -> [Relation] {
    var order: [String] = []
    var grouped: [String: [ColumnRow]] = [:]
    for row in rows {
      let key = row.database + "\u{0}" + row.relation
      if grouped[key] == nil { order.append(key) }
      grouped[key, default: []].append(row)
    }
    return order.compactMap { key in
      guard let group = grouped[key], let first = group.first else { return nil }
      let sorted = group.sorted { $0.cid < $1.cid }
      let primaryKeyCount = sorted.filter { $0.primaryKeyIndex > 0 }.count
      let columns = sorted.enumerated().map { offset, row in
        // An INTEGER PRIMARY KEY is the rowid: never null, though SQLite does not report it NOT NULL.
        let isRowID =
          primaryKeyCount == 1 && row.primaryKeyIndex == 1 && row.dataType.uppercased() == "INTEGER"
        return LiveColumn(
          name: row.name,
          dataType: row.dataType,
          position: offset + 1,
          isKey: row.primaryKeyIndex > 0 || row.singleColumnUnique,
          isNullable: !(row.notNull || isRowID)
        )
      }
      return Relation(database: first.database, name: first.relation, kind: first.kind, columns: columns)
    }
  }

  private static func notADatabasePath(
    databases: [String], mainPath: String, attached: [String: (name: String, path: String)]
  ) -> String {
    let attachedPaths = databases.compactMap { attached[$0.lowercased()]?.path }
    return attachedPaths.isEmpty ? mainPath : ([mainPath] + attachedPaths).joined(separator: "' or '")
  }
}
