import DriftwatchCore
import Foundation
import Testing

@testable import DriftwatchDbt

@Suite struct CatalogReaderTests {
  /// Written by `dbt docs generate` (dbt 1.11.16, PostgreSQL 15) after the backend renamed raw.users to
  /// raw.accounts: the catalog lists only relations the manifest knows, so neither shows up.
  @Test func readsDbtsCatalog() async throws {
    let warehouse = try CatalogReader.read(
      path: Fixtures.path("jaffle_drift/target/catalog.json"), dialect: .postgres)
    #expect(warehouse.dialect == .postgres)
    let names = Set(warehouse.tables.map(\.qualifiedName))
    #expect(
      names == [
        "warehouse.analytics.country_codes", "warehouse.analytics.stg_invoices",
        "warehouse.analytics.stg_orders",
        "warehouse.billing.invoices", "warehouse.raw.raw_orders",
      ])
    #expect(!names.contains("warehouse.raw.accounts"))
    #expect(!names.contains("warehouse.raw.users"))
    let orders = try #require(warehouse.tables.first { $0.name == "raw_orders" })
    #expect(orders.kind == .table)
    #expect(orders.columns.map(\.name) == ["order_id", "user_id", "amount"])
    #expect(orders.columns.map(\.dataType) == ["integer", "integer", "numeric(10,2)"])
    #expect(orders.columns.map(\.position) == [1, 2, 3])
    #expect(warehouse.tables.first { $0.name == "stg_orders" }?.kind == .view)
    let raw = try await warehouse.introspect(schemas: [SchemaRef(database: "warehouse", schema: "raw")])
    #expect(raw.tables.map(\.name) == ["raw_orders"])
  }

  @Test func columnsFollowTheirIndexNotTheFileOrder() throws {
    let project = try TemporaryProject([
      "catalog.json": """
      {"metadata": {}, "errors": null,
       "nodes": {},
       "sources": {"source.p.app.users": {
         "metadata": {"type": "table", "schema": "app", "name": "users", "database": null},
         "columns": {
           "zeta": {"type": "TEXT", "index": 3, "name": "zeta"},
           "alpha": {"type": "INTEGER", "index": 1, "name": "alpha"},
           "mid": {"type": "REAL", "index": 2, "name": "mid"}
         },
         "unique_id": "source.p.app.users"}}}
      """
    ])
    defer { project.remove() }
    let warehouse = try CatalogReader.read(path: project.path("catalog.json"))
    let users = try #require(warehouse.tables.first)
    #expect(users.schema == SchemaRef(schema: "app"))
    #expect(users.columns.map(\.name) == ["alpha", "mid", "zeta"])
    #expect(users.columns.map(\.dataType) == ["INTEGER", "REAL", "TEXT"])
  }

  @Test func missingAndBrokenCatalogs() throws {
    do {
      _ = try CatalogReader.read(path: "/nonexistent/catalog.json")
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.hasPrefix("no catalog at /nonexistent/catalog.json"))
      #expect(error.message.contains("dbt docs generate"))
    }
    let project = try TemporaryProject(["catalog.json": "{\"nodes\": ["])
    defer { project.remove() }
    do {
      _ = try CatalogReader.read(path: project.path("catalog.json"))
      Issue.record("expected an error")
    } catch let error as DbtError {
      #expect(error.message.contains("not a dbt catalog"))
      #expect(error.message.contains("regenerate it with `dbt docs generate`"))
    }
  }
}
