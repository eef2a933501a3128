import DriftwatchCore
import DriftwatchPostgres
import DriftwatchTestSupport
import Foundation
import Logging
import Testing

@Suite("PostgreSQL warehouse")
struct PostgresWarehouseTests {
  static let fixture = """
    CREATE SCHEMA raw;
    CREATE SCHEMA other;
    CREATE SCHEMA empty_schema;
    CREATE TABLE raw.customers (
      id serial PRIMARY KEY,
      email varchar(255) NOT NULL UNIQUE,
      balance numeric(12,2),
      created_at timestamp,
      updated_at timestamptz,
      tags text[],
      segment text
    );
    ALTER TABLE raw.customers DROP COLUMN segment;
    ALTER TABLE raw.customers ADD COLUMN tier text DEFAULT 'bronze';
    CREATE TABLE raw.order_items (
      order_id bigint NOT NULL,
      line_no int NOT NULL,
      sku text,
      code text,
      PRIMARY KEY (order_id, line_no)
    );
    CREATE UNIQUE INDEX order_items_sku ON raw.order_items (sku) WHERE sku IS NOT NULL;
    CREATE UNIQUE INDEX order_items_code ON raw.order_items (code);
    CREATE TABLE raw.events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
    CREATE TABLE raw.events_2024 PARTITION OF raw.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE VIEW raw.customer_emails AS SELECT id, email FROM raw.customers;
    CREATE MATERIALIZED VIEW raw.balances AS SELECT id, balance FROM raw.customers;
    CREATE TABLE other.secret (x int);
    CREATE TABLE public.not_requested (x int);
    """

  private static func withFixture<T: Sendable>(_ body: (PostgresLocator) async throws -> T) async throws -> T
  {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: fixture, into: locator)
      return try await body(locator)
    }
  }

  @Test func introspectsTablesViewsTypesAndKeys() async throws {
    try await Self.withFixture { locator in
      let raw = SchemaRef(schema: "raw")
      let live = try await PostgresWarehouse(locator: locator).introspect(schemas: [raw])
      #expect(live.inspected == [raw])
      #expect(
        live.tables.map(\.name) == ["balances", "customer_emails", "customers", "events", "order_items"])
      #expect(live.tables.allSatisfy { $0.schema == raw })

      let customers = try #require(live.tables.first { $0.name == "customers" })
      #expect(customers.kind == .table)
      // The dropped column is gone; positions are PostgreSQL's attnum (a dropped column leaves a gap).
      #expect(
        customers.columns == [
          LiveColumn(name: "id", dataType: "integer", position: 1, isKey: true, isNullable: false),
          LiveColumn(
            name: "email", dataType: "character varying(255)", position: 2, isKey: true, isNullable: false),
          LiveColumn(name: "balance", dataType: "numeric(12,2)", position: 3),
          LiveColumn(name: "created_at", dataType: "timestamp without time zone", position: 4),
          LiveColumn(name: "updated_at", dataType: "timestamp with time zone", position: 5),
          LiveColumn(name: "tags", dataType: "text[]", position: 6),
          LiveColumn(name: "tier", dataType: "text", position: 8),
        ])

      let items = try #require(live.tables.first { $0.name == "order_items" })
      #expect(items.columns.map(\.dataType) == ["bigint", "integer", "text", "text"])
      // Composite primary key parts are keys; a single-column unique index is a key; a partial one is not.
      #expect(items.columns.map(\.isKey) == [true, true, false, true])

      let events = try #require(live.tables.first { $0.name == "events" })
      #expect(events.kind == .table)
      #expect(events.columns.map(\.name) == ["id", "at"])

      #expect(live.tables.first { $0.name == "customer_emails" }?.kind == .view)
      #expect(live.tables.first { $0.name == "balances" }?.kind == .view)
      #expect(live.tables.first { $0.name == "customer_emails" }?.columns.map(\.isKey) == [false, false])
    }
  }

  @Test func onlyRequestedSchemasAreRead() async throws {
    try await Self.withFixture { locator in
      let schemas = [
        SchemaRef(schema: "other"), SchemaRef(schema: "empty_schema"), SchemaRef(schema: "nope"),
      ]
      let live = try await PostgresWarehouse(locator: locator).introspect(schemas: schemas)
      #expect(live.inspected == schemas)
      #expect(live.tables.map(\.qualifiedName) == ["other.secret"])
    }
  }

  @Test func schemaNamesMatchExactlyThenLowercase() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(
        sql: """
          CREATE SCHEMA raw; CREATE TABLE raw.lower_t (x int);
          CREATE SCHEMA "Mixed"; CREATE TABLE "Mixed".exact_t (x int);
          CREATE SCHEMA mixed; CREATE TABLE mixed.folded_t (x int);
          """, into: locator)
      let warehouse = PostgresWarehouse(locator: locator)
      let live = try await warehouse.introspect(
        schemas: [SchemaRef(schema: "RAW"), SchemaRef(schema: "Mixed"), SchemaRef(schema: "mixed")])
      #expect(live.tables.map(\.qualifiedName) == ["RAW.lower_t", "Mixed.exact_t", "mixed.folded_t"])
    }
  }

  @Test func hostileIdentifiersAreBoundNotSpliced() async throws {
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(
        sql: #"""
          CREATE TABLE public.y (id int);
          INSERT INTO public.y VALUES (1);
          CREATE SCHEMA "we""ird";
          CREATE TABLE "we""ird"."x'); drop table y;--" ("it's"" col" text PRIMARY KEY, "Upper" int);
          """#, into: locator)
      let schema = SchemaRef(schema: #"we"ird"#)
      let live = try await PostgresWarehouse(locator: locator).introspect(
        schemas: [schema, SchemaRef(schema: "'); drop table y;--")])
      let table = try #require(live.tables.first)
      #expect(live.tables.count == 1)
      #expect(table.schema == schema)
      #expect(table.name == "x'); drop table y;--")
      #expect(
        table.columns == [
          LiveColumn(name: #"it's" col"#, dataType: "text", position: 1, isKey: true, isNullable: false),
          LiveColumn(name: "Upper", dataType: "integer", position: 2),
        ])
      #expect(try await TestPostgres.rows("SELECT count(*)::text FROM public.y", in: locator) == [["1"]])
    }
  }

  @Test func sessionIsReadOnly() async throws {
    try await Self.withFixture { locator in
      let warehouse = PostgresWarehouse(locator: locator)
      let setting = try await warehouse.withReadOnlySession { session in
        try await session.query("SELECT current_setting('transaction_read_only')").first?.decode(String.self)
      }
      #expect(setting == "on")

      // Writes fail inside the session, even after ending its transaction.
      let error = try await #require(throws: WarehouseError.self) {
        try await warehouse.withReadOnlySession { session in
          try await session.query("CREATE TABLE raw.sneaky (x int)")
        }
      }
      #expect(error.kind == .queryFailed)
      #expect(error.message.contains("read-only transaction"))
      let afterCommit = try await #require(throws: WarehouseError.self) {
        try await warehouse.withReadOnlySession { session in
          try await session.query("COMMIT")
          try await session.query("CREATE TABLE raw.sneaky (x int)")
        }
      }
      #expect(afterCommit.message.contains("read-only transaction"))
      let tables = try await TestPostgres.rows(
        "SELECT relname::text FROM pg_class WHERE relname = 'sneaky'", in: locator)
      #expect(tables.isEmpty)
    }
  }

  @Test func introspectionRunsOneCatalogQueryInAReadOnlyTransaction() async throws {
    try await Self.withFixture { locator in
      let recorder = StatementRecorder()
      var logger = Logger(label: "test", factory: { _ in recorder })
      logger.logLevel = .debug
      _ = try await PostgresWarehouse(locator: locator, logger: logger).introspect(schemas: [
        SchemaRef(schema: "raw")
      ])
      let statements = recorder.statements
      #expect(statements.count == 4)
      #expect(statements.first == "START TRANSACTION READ ONLY")
      // The read's timeouts, local to the transaction, values bound.
      #expect(
        statements.dropFirst().first
          == "SELECT set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)")
      #expect(statements.dropFirst(2).first?.contains("pg_catalog.pg_attribute") == true)
      #expect(statements.dropFirst(2).first?.contains("ANY ($1::text[])") == true)
      #expect(statements.last == "ROLLBACK")
    }
  }

  @Test func loadsTheAcmeSeed() async throws {
    let seed = try String(
      contentsOfFile: repositoryRoot() + "/examples/acme/warehouse/seed.sql", encoding: .utf8)
    try await TestPostgres.withDatabase { locator in
      try await TestPostgres.load(sql: seed, into: locator, searchPath: "raw")
      let live = try await PostgresWarehouse(locator: locator).introspect(schemas: [SchemaRef(schema: "raw")])
      #expect(live.tables.map(\.name) == ["raw_customers", "raw_orders", "raw_payments"])
      let orders = try #require(live.tables.first { $0.name == "raw_orders" })
      #expect(orders.columns.first { $0.name == "order_total" }?.dataType == "numeric(12,2)")
      #expect(orders.columns.first { $0.name == "created_at" }?.dataType == "timestamp without time zone")
      #expect(orders.columns.first { $0.name == "order_id" }?.isKey == true)
      let count = try await TestPostgres.rows("SELECT count(*)::text FROM raw.raw_orders", in: locator)
      #expect(count == [["3000"]])
    }
  }

  @Test func failedLoadNamesTheLineAndLeavesNothing() async throws {
    try await TestPostgres.withDatabase { locator in
      let error = try await #require(throws: TestSupportError.self) {
        try await TestPostgres.load(
          sql: "CREATE TABLE a (x int);\n\nINSERT INTO missing VALUES (1);", into: locator)
      }
      #expect(error.message.contains("statement at line 3 failed"))
      #expect(
        try await TestPostgres.rows("SELECT relname::text FROM pg_class WHERE relname = 'a'", in: locator)
          .isEmpty)
    }
  }
}

@Suite("PostgreSQL connection errors")
struct PostgresConnectionErrorTests {
  @Test func connectionRefusedOnAClosedPort() async throws {
    let port = try await TestNetwork.closedPort()
    let locator = PostgresLocator(
      host: "127.0.0.1", port: port, user: "app", password: "hunter2", database: "acme")
    let error = try await #require(throws: WarehouseError.self) {
      try await PostgresWarehouse(locator: locator).introspect(schemas: [SchemaRef(schema: "raw")])
    }
    #expect(error.kind == .connectionRefused)
    #expect(
      error.message
        == "cannot connect to postgres://app@127.0.0.1:\(port)/acme: connection refused; "
        + "is the server running and is --warehouse right?")
  }

  @Test func wrongPasswordIsAnAuthenticationError() async throws {
    var locator = try TestPostgres.adminLocator()
    locator.password = "definitely-wrong-pw-\(UUID().uuidString)"
    let error = try await #require(throws: WarehouseError.self) {
      try await PostgresWarehouse(locator: locator).introspect(schemas: [SchemaRef(schema: "raw")])
    }
    #expect(error.kind == .authenticationFailed)
    #expect(error.message.contains("password authentication failed for user \(locator.user)"))
    #expect(!error.message.contains(locator.password ?? "?"))
    #expect(!error.message.contains("definitely-wrong"))
  }

  @Test func missingPasswordIsAnAuthenticationError() async throws {
    var locator = try TestPostgres.adminLocator()
    locator.password = nil
    let error = try await #require(throws: WarehouseError.self) {
      try await PostgresWarehouse(locator: locator).introspect(schemas: [SchemaRef(schema: "raw")])
    }
    #expect(error.kind == .authenticationFailed)
    #expect(error.message.contains("PGPASSWORD"))
  }

  @Test func missingDatabase() async throws {
    var locator = try TestPostgres.adminLocator()
    locator.database = "no_such_db_\(UUID().uuidString.prefix(8).lowercased())"
    let error = try await #require(throws: WarehouseError.self) {
      try await PostgresWarehouse(locator: locator).introspect(schemas: [SchemaRef(schema: "raw")])
    }
    #expect(error.kind == .databaseNotFound)
    #expect(error.message.contains("database \(locator.database) does not exist"))
    #expect(!error.message.contains(try TestPostgres.adminLocator().password ?? "?"))
  }

  @Test func silentServerTimesOut() async throws {
    try await TestNetwork.withSilentListener { port in
      let locator = PostgresLocator(
        host: "127.0.0.1", port: port, user: "app", database: "acme", sslMode: .disable)
      let started = ContinuousClock.now
      let error = try await #require(throws: WarehouseError.self) {
        try await PostgresWarehouse(locator: locator, connectTimeout: .milliseconds(500))
          .introspect(schemas: [SchemaRef(schema: "raw")])
      }
      #expect(error.kind == .timeout)
      #expect(error.message.contains("timed out after 0.5 s"))
      // A silent server without the connect timeout would hang forever; the bound only has to tell the two
      // apart. It is generous because the suite runs tests in parallel on two cores' cooperative threads,
      // where an async test can wait seconds for a thread (5.4 s seen for this 0.5 s timeout in CI).
      #expect(ContinuousClock.now - started < .seconds(60))
    }
  }

  @Test func harnessWithoutServerFailsWithInstructions() throws {
    let error = try #require(throws: TestSupportError.self) {
      try TestPostgres.adminLocator(environment: [:])
    }
    #expect(error.message.hasPrefix("DRIFTWATCH_TEST_POSTGRES_URL is not set: run scripts/test"))
  }

  @Test func displayURLNeverHasThePassword() {
    let locator = PostgresLocator(host: "::1", port: 5999, user: "app", password: "hunter2", database: "acme")
    #expect(locator.displayURL == "postgres://app@[::1]:5999/acme")
    #expect(PostgresWarehouse(locator: locator).displayName == "postgres://app@[::1]:5999/acme")
  }
}
