import DriftwatchCore

/// Small projects and warehouses built in code, one per change kind.
enum DriftFixtures {
  static let customerColumns: [(String, String)] = [
    ("customer_id", "integer"), ("name", "text"), ("email", "text"), ("address", "text"),
    ("customer_segment", "text"), ("country", "text"), ("created_at", "timestamp"),
  ]

  static func source(
    _ name: String, columns: [(String, String)], schema: String = "raw", sourceName: String = "shop"
  ) -> SourceTable {
    SourceTable(
      uniqueID: "source.shop.\(sourceName).\(name)", packageName: "shop", sourceName: sourceName, name: name,
      schema: schema, columns: columns.map { DeclaredColumn(name: $0.0, dataType: $0.1) })
  }

  static func table(
    _ name: String, _ columns: [(String, String)], schema: String = "raw", keys: Set<String> = []
  )
    -> LiveTable
  {
    LiveTable(
      schema: SchemaRef(schema: schema), name: name,
      columns: columns.enumerated().map {
        LiveColumn(name: $1.0, dataType: $1.1, position: $0 + 1, isKey: keys.contains($1.0))
      })
  }

  static func model(_ name: String, reads parents: [String], sql: String? = nil) -> GraphNode {
    GraphNode(
      uniqueID: "model.shop.\(name)", resourceType: .model, name: name, packageName: "shop",
      dependsOn: parents,
      rawCode: sql)
  }

  static func test(_ name: String, on parents: [String], column: String? = nil, kind: String = "not_null")
    -> GraphNode
  {
    GraphNode(
      uniqueID: "test.shop.\(name)", resourceType: .test, name: name, packageName: "shop", dependsOn: parents,
      test: TestInfo(testName: kind, columnName: column, attachedNode: parents.first))
  }

  static func exposure(_ name: String, on parents: [String]) -> GraphNode {
    GraphNode(
      uniqueID: "exposure.shop.\(name)", resourceType: .exposure, name: name, packageName: "shop",
      dependsOn: parents, exposureType: "dashboard", label: "Dashboard " + name)
  }

  /// The seed's shape: raw_customers → stg_customers → two marts → a dashboard; orders on the side.
  static func customersProject() -> ProjectGraph {
    let customers = source("raw_customers", columns: customerColumns)
    let orders = source("raw_orders", columns: [("order_id", "integer"), ("customer_id", "integer")])
    let staging = model(
      "stg_customers", reads: [customers.uniqueID],
      sql: """
        {# reads every raw column by name #}
        select customer_id, name, email, address, customer_segment, country, created_at
        from {{ source('shop', 'raw_customers') }}
        """)
    let stagingOrders = model(
      "stg_orders", reads: [orders.uniqueID],
      sql: "select order_id, customer_id from {{ source('shop','raw_orders') }}")
    let dim = model("dim_customers", reads: [staging.uniqueID])
    let revenue = model("segment_revenue", reads: [dim.uniqueID, stagingOrders.uniqueID])
    return ProjectGraph(
      projectName: "shop", sources: [customers, orders],
      nodes: [
        staging, stagingOrders, dim, revenue,
        test("source_unique_customer_id", on: [customers.uniqueID], column: "customer_id", kind: "unique"),
        test("source_not_null_email", on: [customers.uniqueID], column: "email"),
        test("not_null_dim_customer_id", on: [dim.uniqueID], column: "customer_id"),
        test("not_null_stg_orders_order_id", on: [stagingOrders.uniqueID], column: "order_id"),
        test(
          "relationships_orders_customers", on: [stagingOrders.uniqueID, staging.uniqueID],
          column: "customer_id",
          kind: "relationships"),
        exposure("revenue_dashboard", on: [revenue.uniqueID]),
        exposure("orders_dashboard", on: [stagingOrders.uniqueID]),
      ])
  }

  static let ordersTable = table(
    "raw_orders", [("order_id", "integer"), ("customer_id", "integer")], keys: ["order_id"])

  static let migratedAccounts = table(
    "raw_accounts",
    [
      ("account_id", "integer"), ("name", "text"), ("email", "text"), ("street", "text"), ("city", "text"),
      ("state_code", "text"), ("postal_code", "text"), ("account_tier", "text"), ("country_code", "text"),
      ("created_at", "timestamp without time zone"),
    ], keys: ["account_id"])

  static func live(_ tables: [LiveTable]) -> LiveSchema {
    LiveSchema(inspected: [SchemaRef(schema: "raw")], tables: tables)
  }
}
