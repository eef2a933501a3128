// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "driftwatch",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "driftwatch", targets: ["driftwatch"]),
    .library(name: "DriftwatchCore", targets: ["DriftwatchCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    // Already in the graph through postgres-nio: the watch service's HTTP client and server use them directly.
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
    // The review page and the watch service's HTTP endpoints; webhooks; /metrics; the MCP server.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
  ],
  targets: [
    // Pure model and logic: schema model, drift engine, lineage, selectors. No I/O.
    .target(name: "DriftwatchCore"),
    // A Jinja2 engine (lexer, parser, renderer, filters, macro library) and dbt's parse-time context. No I/O,
    // no dependencies; libm for rounding on Linux.
    .target(name: "DriftwatchJinja", linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    // Renderers (text, JSON, markdown, mermaid, dot) over Core's report values. No I/O.
    .target(name: "DriftwatchReports", dependencies: ["DriftwatchCore"]),
    // dbt project reader: files, manifest.json, catalog.json, profiles.yml.
    .target(
      name: "DriftwatchDbt",
      dependencies: ["DriftwatchCore", "DriftwatchJinja", .product(name: "Yams", package: "Yams")]
    ),
    // Warehouse adapters.
    .target(
      name: "DriftwatchSQLite",
      dependencies: ["DriftwatchCore", .product(name: "SQLiteNIO", package: "sqlite-nio")]
    ),
    .target(
      name: "DriftwatchPostgres",
      dependencies: [
        "DriftwatchCore",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // Snapshot stores: SQLite file (default) and PostgreSQL, behind Core's StateStore.
    .target(
      name: "DriftwatchState",
      dependencies: [
        "DriftwatchCore", "DriftwatchPostgres",
        .product(name: "SQLiteNIO", package: "sqlite-nio"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ]
    ),
    // The watch service: its engine (clock and poster injected), LISTEN for DDL events, webhooks over
    // AsyncHTTPClient, /healthz /metrics /incidents on Hummingbird, metrics in swift-prometheus.
    .target(
      name: "DriftwatchWatch",
      dependencies: [
        "DriftwatchCore", "DriftwatchReports", "DriftwatchPostgres",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ]
    ),
    // The review page (`driftwatch serve`, and `watch --http` later): Hummingbird routes over the CLI's calls.
    .target(
      name: "DriftwatchServe",
      dependencies: [
        "DriftwatchCore", "DriftwatchReports", "DriftwatchDbt", "DriftwatchSQLite", "DriftwatchPostgres",
        "DriftwatchState",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    // The dbt bridge: any warehouse dbt has an adapter for, through the user's dbt (`dbt run-operation` of
    // driftwatch's own macros) and profile.
    .target(name: "DriftwatchDbtBridge", dependencies: ["DriftwatchCore"]),
    // The commands, as a library; the executable is a few lines over it.
    .target(
      name: "DriftwatchCommands",
      dependencies: [
        "DriftwatchCore", "DriftwatchReports", "DriftwatchDbt", "DriftwatchSQLite", "DriftwatchPostgres",
        "DriftwatchState", "DriftwatchWatch", "DriftwatchServe", "DriftwatchDbtBridge",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "MCP", package: "swift-sdk"),
      ]
    ),
    .executableTarget(name: "driftwatch", dependencies: ["DriftwatchCommands"]),
    // Shared by the test targets: throwaway PostgreSQL databases and SQLite files loaded from SQL.
    .target(
      name: "DriftwatchTestSupport",
      dependencies: [
        "DriftwatchCore", "DriftwatchSQLite", "DriftwatchPostgres",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      path: "Tests/DriftwatchTestSupport"
    ),
    .testTarget(
      name: "DriftwatchCoreTests",
      dependencies: ["DriftwatchCore", "DriftwatchReports", "DriftwatchTestSupport"],
      exclude: ["Golden"]),
    .testTarget(
      name: "DriftwatchDbtTests", dependencies: ["DriftwatchDbt", "DriftwatchJinja"], exclude: ["Fixtures"]),
    .testTarget(name: "DriftwatchJinjaTests", dependencies: ["DriftwatchJinja"], exclude: ["Fixtures"]),
    .testTarget(
      name: "DriftwatchWarehouseTests",
      dependencies: [
        "DriftwatchSQLite", "DriftwatchPostgres", "DriftwatchDbt", "DriftwatchState", "DriftwatchTestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ]
    ),
    .testTarget(
      name: "DriftwatchCommandsTests",
      dependencies: [
        "DriftwatchCommands", "DriftwatchDbtBridge", "DriftwatchPostgres", "DriftwatchTestSupport",
        .product(name: "Logging", package: "swift-log"),
      ],
      exclude: ["Golden", "Fixtures"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
