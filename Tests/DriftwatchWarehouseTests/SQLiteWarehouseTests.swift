import DriftwatchCore
import DriftwatchSQLite
import DriftwatchTestSupport
import Foundation
import Testing

@Suite("SQLite warehouse")
struct SQLiteWarehouseTests {
  static let fixture = """
    CREATE TABLE customers (
      id INTEGER PRIMARY KEY,
      email TEXT NOT NULL UNIQUE,
      balance NUMERIC(12,2),
      nickname varchar(40),
      created_at TIMESTAMP,
      untyped
    );
    CREATE TABLE order_items (
      order_id INT NOT NULL,
      line_no INT NOT NULL,
      sku TEXT,
      code TEXT,
      PRIMARY KEY (order_id, line_no)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX order_items_sku ON order_items (sku) WHERE sku IS NOT NULL;
    CREATE UNIQUE INDEX order_items_code_sku ON order_items (code, sku);
    CREATE UNIQUE INDEX order_items_lower_code ON order_items (lower(code));
    CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT, size INT GENERATED ALWAYS AS (length(payload)) VIRTUAL);
    INSERT INTO events (payload) VALUES ('x');
    CREATE VIEW customer_emails AS SELECT id, email FROM customers;
    """

  private func fixtureFile(_ directory: TemporaryDirectory, name: String = "warehouse.db") async throws
    -> String
  {
    let path = directory.file(name)
    try await TestSQLite.create(at: path, sql: Self.fixture)
    return path
  }

  @Test func introspectsTablesViewsTypesPositionsAndKeys() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await fixtureFile(directory)
      let raw = SchemaRef(schema: "raw")
      let live = try await SQLiteWarehouse(path: path).introspect(schemas: [raw])
      #expect(live.inspected == [raw])
      #expect(live.tables.map(\.name).sorted() == ["customer_emails", "customers", "events", "order_items"])
      #expect(live.tables.allSatisfy { $0.schema == raw })

      let customers = try #require(live.tables.first { $0.name == "customers" })
      #expect(customers.kind == .table)
      #expect(
        customers.columns == [
          LiveColumn(name: "id", dataType: "INTEGER", position: 1, isKey: true, isNullable: false),
          LiveColumn(name: "email", dataType: "TEXT", position: 2, isKey: true, isNullable: false),
          LiveColumn(name: "balance", dataType: "NUMERIC(12,2)", position: 3, isKey: false, isNullable: true),
          LiveColumn(name: "nickname", dataType: "varchar(40)", position: 4, isKey: false, isNullable: true),
          LiveColumn(name: "created_at", dataType: "TIMESTAMP", position: 5, isKey: false, isNullable: true),
          LiveColumn(name: "untyped", dataType: "", position: 6, isKey: false, isNullable: true),
        ])

      // Composite primary key: both parts are keys. A partial, a multi-column and an expression unique
      // index do not make a column a key.
      let items = try #require(live.tables.first { $0.name == "order_items" })
      #expect(items.columns.map(\.name) == ["order_id", "line_no", "sku", "code"])
      #expect(items.columns.map(\.isKey) == [true, true, false, false])
      #expect(items.columns.map(\.isNullable) == [false, false, true, true])

      // Generated columns are columns; sqlite_sequence (from AUTOINCREMENT) is internal and skipped.
      let events = try #require(live.tables.first { $0.name == "events" })
      #expect(events.columns.map(\.name) == ["id", "payload", "size"])
      #expect(events.columns.map(\.position) == [1, 2, 3])

      let view = try #require(live.tables.first { $0.name == "customer_emails" })
      #expect(view.kind == .view)
      #expect(view.columns.map(\.name) == ["id", "email"])
      #expect(view.columns.allSatisfy { !$0.isKey })
    }
  }

  @Test func everyUnattachedSchemaReadsMain() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await fixtureFile(directory)
      let schemas = [SchemaRef(schema: "raw"), SchemaRef(database: "analytics", schema: "staging")]
      let live = try await SQLiteWarehouse(path: path).introspect(schemas: schemas)
      #expect(live.inspected == schemas)
      for schema in schemas {
        #expect(live.tables.filter { $0.schema == schema }.map(\.name).sorted().count == 4)
      }
    }
  }

  @Test func attachedDatabaseServesItsSchema() async throws {
    try await withTemporaryDirectory { directory in
      let mainPath = try await fixtureFile(directory)
      let archivePath = directory.file("archive.db")
      try await TestSQLite.create(
        at: archivePath, sql: "CREATE TABLE old_orders (order_id INTEGER PRIMARY KEY, total REAL);")
      let warehouse = SQLiteWarehouse(path: mainPath, attachments: ["Archive": archivePath])
      let archive = SchemaRef(schema: "archive")
      let raw = SchemaRef(schema: "raw")
      let live = try await warehouse.introspect(schemas: [archive, raw])
      #expect(live.tables.filter { $0.schema == archive }.map(\.name) == ["old_orders"])
      #expect(
        live.tables.filter { $0.schema == raw }.map(\.name).sorted() == [
          "customer_emails", "customers", "events", "order_items",
        ])
      let oldOrders = try #require(live.tables.first { $0.name == "old_orders" })
      #expect(oldOrders.columns.map(\.dataType) == ["INTEGER", "REAL"])
    }
  }

  @Test func reservedAttachmentNameIsRejected() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await fixtureFile(directory)
      let warehouse = SQLiteWarehouse(path: path, attachments: ["MAIN": path])
      let error = try await #require(throws: WarehouseError.self) {
        try await warehouse.introspect(schemas: [SchemaRef(schema: "main")])
      }
      #expect(error.message.contains("reserved"))
    }
  }

  @Test func missingFileIsAnErrorAndIsNeverCreated() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("nope.db")
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "main")])
      }
      #expect(error.kind == .sqliteFileMissing)
      #expect(error.message.contains("does not exist"))
      #expect(error.message.contains(path))
      #expect(!FileManager.default.fileExists(atPath: path))
    }
  }

  @Test func missingAttachmentIsAnError() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await fixtureFile(directory)
      let missing = directory.file("missing.db")
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteWarehouse(path: path, attachments: ["raw": missing]).introspect(schemas: [
          SchemaRef(schema: "raw")
        ])
      }
      #expect(error.kind == .sqliteFileMissing)
      #expect(!FileManager.default.fileExists(atPath: missing))
    }
  }

  @Test func nonSQLiteFileIsAClearError() async throws {
    try await withTemporaryDirectory { directory in
      let path = try directory.write("name,email\nann,ann@example.com\n", to: "customers.csv")
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "main")])
      }
      #expect(error.kind == .notASQLiteDatabase)
      #expect(
        error.message == "'\(path)' is not a sqlite database (file is not a database): check --warehouse")
    }
  }

  @Test func directoryIsNotADatabase() async throws {
    try await withTemporaryDirectory { directory in
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteWarehouse(path: directory.path).introspect(schemas: [SchemaRef(schema: "main")])
      }
      #expect(error.kind == .notASQLiteDatabase)
    }
  }

  @Test func introspectionLeavesTheFileUntouched() async throws {
    try await withTemporaryDirectory { directory in
      let path = try await fixtureFile(directory)
      let before = try Data(contentsOf: URL(fileURLWithPath: path))
      let filesBefore = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
      _ = try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "main")])
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
      #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == filesBefore)
    }
  }

  @Test func aBrokenViewDoesNotHideTheOtherTables() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("broken.db")
      try await TestSQLite.create(
        at: path,
        sql: """
          CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
          CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
          CREATE VIEW active_users AS SELECT id, name FROM users;
          DROP TABLE users;
          """)
      let live = try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "main")])
      #expect(live.tables.map(\.name) == ["accounts"])
    }
  }

  @Test func hostileNamesAreReadAsNames() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("hostile.db")
      try await TestSQLite.create(
        at: path,
        sql: """
          CREATE TABLE y (id int);
          CREATE TABLE "x'); drop table y;--" ("we""ird col" text PRIMARY KEY);
          """)
      let attached = directory.file("we'ird.db")
      try await TestSQLite.create(at: attached, sql: "CREATE TABLE t (a int);")
      let warehouse = SQLiteWarehouse(path: path, attachments: ["we\"ird": attached])
      let live = try await warehouse.introspect(schemas: [
        SchemaRef(schema: "main"), SchemaRef(schema: "we\"ird"),
      ])
      let hostile = try #require(live.tables.first { $0.name == "x'); drop table y;--" })
      #expect(
        hostile.columns == [LiveColumn(name: "we\"ird col", dataType: "TEXT", position: 1, isKey: true)])
      #expect(live.tables.contains { $0.name == "y" })
      #expect(live.tables.filter { $0.schema.schema == "we\"ird" }.map(\.name) == ["t"])
    }
  }

  @Test func loadsTheAcmeSeed() async throws {
    let seed = try String(
      contentsOfFile: repositoryRoot() + "/examples/acme/warehouse/seed.sql", encoding: .utf8)
    try await withTemporaryDirectory { directory in
      let path = directory.file("acme.db")
      try await TestSQLite.create(at: path, sql: seed)
      let live = try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "raw")])
      #expect(live.tables.map(\.name).sorted() == ["raw_customers", "raw_orders", "raw_payments"])
      let orders = try #require(live.tables.first { $0.name == "raw_orders" })
      #expect(orders.columns.first { $0.name == "order_total" }?.dataType == "numeric(12,2)")
      #expect(orders.columns.first { $0.name == "order_id" }?.isKey == true)
    }
  }
}

@Suite("SQLite writable database")
struct SQLiteDatabaseTests {
  @Test func createRefusesAnExistingFile() async throws {
    try await withTemporaryDirectory { directory in
      let path = try directory.write("precious", to: "existing.db")
      let error = try await #require(throws: WarehouseError.self) {
        try await SQLiteDatabase.create(at: path)
      }
      #expect(error.kind == .fileExists)
      #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
    }
  }

  @Test func openRefusesAMissingFile() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("missing.db")
      let error = try await #require(throws: WarehouseError.self) { try await SQLiteDatabase.open(at: path) }
      #expect(error.kind == .sqliteFileMissing)
      #expect(!FileManager.default.fileExists(atPath: path))
    }
  }

  @Test func executeIsAllOrNothingAndNamesTheLine() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("demo.db")
      let database = try await SQLiteDatabase.create(at: path)
      try await database.execute(script: "CREATE TABLE kept (id int);")
      let script = """
        CREATE TABLE t (id int);
        INSERT INTO t VALUES (1);

        INSERT INTO no_such_table VALUES (2);
        """
      let error = try await #require(throws: WarehouseError.self) {
        try await database.execute(script: script)
      }
      #expect(error.kind == .queryFailed)
      #expect(error.message.contains("statement at line 4 failed"))
      #expect(error.message.contains("no such table: no_such_table"))
      try await database.close()

      let live = try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "main")])
      #expect(live.tables.map(\.name) == ["kept"])
    }
  }

  @Test func executeAcceptsAWrappingTransactionAndTriggers() async throws {
    try await withTemporaryDirectory { directory in
      let path = directory.file("demo.db")
      let database = try await SQLiteDatabase.create(at: path)
      try await database.execute(
        script: """
          BEGIN TRANSACTION;
          CREATE TABLE t (id int, label text);
          CREATE TABLE log (msg text);
          CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
            INSERT INTO log VALUES ('inserted; ' || new.label);
          END;
          INSERT INTO t VALUES (1, 'a;b');
          COMMIT;
          """)
      try await database.close()
      let live = try await SQLiteWarehouse(path: path).introspect(schemas: [SchemaRef(schema: "main")])
      #expect(live.tables.map(\.name) == ["log", "t"])
    }
  }

  @Test func closedDatabaseRefusesWork() async throws {
    try await withTemporaryDirectory { directory in
      let database = try await SQLiteDatabase.create(at: directory.file("x.db"))
      try await database.close()
      try await database.close()
      await #expect(throws: WarehouseError.self) { try await database.execute(script: "SELECT 1;") }
    }
  }
}
