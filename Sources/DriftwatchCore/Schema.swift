/// The live side: what a warehouse says its tables and columns are.

/// A schema (namespace) in a warehouse, optionally inside a database.
public struct SchemaRef: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  public var database: String?
  public var schema: String

  public init(database: String? = nil, schema: String) {
    self.database = database
    self.schema = schema
  }

  public var description: String { database.map { "\($0).\(schema)" } ?? schema }

  public static func < (lhs: SchemaRef, rhs: SchemaRef) -> Bool {
    (lhs.database ?? "", lhs.schema) < (rhs.database ?? "", rhs.schema)
  }
}

/// One column of a live table, in ordinal order.
public struct LiveColumn: Sendable, Hashable, Codable {
  public var name: String
  /// The warehouse's type name as it reports it (e.g. `integer`, `character varying`, `TEXT`).
  public var dataType: String
  /// 1-based ordinal position in the table.
  public var position: Int
  /// Part of the table's primary key or a single-column unique constraint.
  public var isKey: Bool
  public var isNullable: Bool

  public init(name: String, dataType: String, position: Int, isKey: Bool = false, isNullable: Bool = true) {
    self.name = name
    self.dataType = dataType
    self.position = position
    self.isKey = isKey
    self.isNullable = isNullable
  }
}

public enum RelationKind: String, Sendable, Hashable, Codable {
  case table
  case view
}

/// A live table or view.
public struct LiveTable: Sendable, Hashable, Codable {
  public var schema: SchemaRef
  public var name: String
  public var kind: RelationKind
  public var columns: [LiveColumn]

  public init(schema: SchemaRef, name: String, kind: RelationKind = .table, columns: [LiveColumn]) {
    self.schema = schema
    self.name = name
    self.kind = kind
    self.columns = columns.sorted { $0.position < $1.position }
  }

  public var qualifiedName: String { "\(schema).\(name)" }
}

/// What one introspection saw: the tables of the schemas it was asked about.
public struct LiveSchema: Sendable, Hashable, Codable {
  /// The schemas that were inspected. A schema listed here with no tables is empty, not unknown.
  public var inspected: [SchemaRef]
  public var tables: [LiveTable]

  public init(inspected: [SchemaRef], tables: [LiveTable]) {
    self.inspected = inspected
    self.tables = tables
  }
}

/// SQL dialect of a warehouse; drives quoting and drafted SQL.
public enum SQLDialect: String, Sendable, Hashable, Codable, CaseIterable {
  case postgres
  case sqlite
  case snowflake
  case bigquery
  case duckdb
  case redshift
  case generic
}

/// A warehouse that can describe itself. Adapters live outside Core; the in-memory twin lives here.
public protocol WarehouseIntrospector: Sendable {
  /// A description safe to print: never contains a password.
  var displayName: String { get }
  var dialect: SQLDialect { get }
  /// Describe every table and view in the given schemas, in one catalog query where the warehouse allows.
  /// Must not write to the warehouse.
  func introspect(schemas: [SchemaRef]) async throws -> LiveSchema
}

/// The in-memory twin of a warehouse, for tests and for offline inputs (catalog.json).
public struct InMemoryWarehouse: WarehouseIntrospector {
  public var displayName: String
  public var dialect: SQLDialect
  public var tables: [LiveTable]

  public init(displayName: String = "memory", dialect: SQLDialect = .generic, tables: [LiveTable]) {
    self.displayName = displayName
    self.dialect = dialect
    self.tables = tables
  }

  public func introspect(schemas: [SchemaRef]) async throws -> LiveSchema {
    let wanted = Set(schemas.map { $0.schema.lowercased() })
    return LiveSchema(
      inspected: schemas,
      tables: tables.filter { wanted.contains($0.schema.schema.lowercased()) }
    )
  }
}
