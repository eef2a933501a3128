import DriftwatchCore
import DriftwatchTestSupport
import Foundation
import Testing

/// The dbt bridge on a distributed engine: acme loaded into Spark (pyspark, a Hive metastore in Derby and a
/// warehouse directory pinned to the test's scratch directory), read through dbt-spark's session mode — the
/// same metastore and warehouse, pinned in the profile's `server_side_parameters`, whatever directory dbt runs
/// in. A snapshot before the migration, the migration, then a check that names the seed's incident and proves
/// it from the data. `scripts/test` installs Java and dbt-spark[session] + pyspark (`scripts/lib/spark.sh`);
/// without them the test is skipped, and fails when CI is set.
@Suite("dbt bridge on Spark", .serialized)
struct DbtBridgeSparkTests {
  struct Project {
    var directory: String
    var base: String
    var dbt: String
    var python: String
    var state: String
    var environment: [String: String]
  }

  /// dbt, its Python with pyspark and dbt-spark importable, and a Java; nil (with the reason) when missing.
  static let tools: Result<(dbt: String, python: String), CLIError> = {
    let environment = ProcessInfo.processInfo.environment
    guard let dbt = environment["DRIFTWATCH_DBT"], !dbt.isEmpty else {
      return .failure(
        CLIError("DRIFTWATCH_DBT is not set: run scripts/test (scripts/lib/spark.sh installs Spark)"))
    }
    let python = (dbt as NSString).deletingLastPathComponent + "/python"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [
      "-c",
      "import pyspark, dbt.adapters.spark, shutil, os, sys; "
        + "sys.exit(0 if os.environ.get('JAVA_HOME') or shutil.which('java') else 3)",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
      process.waitUntilExit()
    } catch {
      return .failure(CLIError("no python beside \(dbt): pyspark and dbt-spark[session] are needed"))
    }
    switch process.terminationStatus {
    case 0: return .success((dbt, python))
    case 3: return .failure(CLIError("no Java: install openjdk-17-jre-headless (scripts/lib/spark.sh)"))
    default:
      return .failure(
        CLIError("pyspark or dbt-spark is missing beside \(dbt): run scripts/test (scripts/lib/spark.sh)"))
    }
  }()

  /// Runs where Spark is installed, and always under CI (where a missing Spark fails the test).
  static var enabled: Bool {
    (try? tools.get()) != nil || ProcessInfo.processInfo.environment["CI"] != nil
  }

  /// The Spark settings the loader and dbt share: where the tables and the metastore live, pinned to `base`.
  static func settings(base: String) -> [(String, String)] {
    [
      ("spark.sql.warehouse.dir", base + "/spark-warehouse"),
      (
        "spark.hadoop.javax.jdo.option.ConnectionURL",
        "jdbc:derby:;databaseName=\(base)/metastore_db;create=true"
      ),
      ("spark.ui.enabled", "false"),
      ("spark.ui.showConsoleProgress", "false"),
      ("spark.sql.shuffle.partitions", "1"),
      ("spark.driver.extraJavaOptions", "-Dderby.system.home=\(base)"),
    ]
  }

  static func profiles(base: String) -> String {
    var text = """
      acme:
        target: dev
        outputs:
          dev:
            type: spark
            method: session
            host: NA
            schema: analytics
            threads: 1
            server_side_parameters:

      """
    for (key, value) in settings(base: base) {
      text += "          \"\(key)\": \"\(value)\"\n"
    }
    return text
  }

  /// Loads acme's seed (and, with `migration`, the SQLite migration applied to it) into Spark's `raw` schema:
  /// the SQL runs in an in-memory SQLite, whose tables are then written as Spark tables (dropping the ones the
  /// migration dropped) — the same data and shape the PostgreSQL migration leaves.
  static let loader = #"""
    import sqlite3, sys
    from decimal import Decimal
    from datetime import datetime, date
    settings, seed = sys.argv[1], sys.argv[2]
    migration = sys.argv[3] if len(sys.argv) > 3 else None
    db = sqlite3.connect(":memory:")
    db.executescript(open(seed).read())
    if migration:
        db.executescript(open(migration).read())
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T
    builder = SparkSession.builder.enableHiveSupport()
    for line in open(settings).read().splitlines():
        key, value = line.split("\t", 1)
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("create database if not exists raw")
    def spark_type(declared):
        d = declared.lower()
        if d.startswith("int"): return T.IntegerType()
        if d.startswith("numeric"): return T.DecimalType(12, 2)
        if d.startswith("timestamp"): return T.TimestampType()
        if d.startswith("date"): return T.DateType()
        return T.StringType()
    def convert(value, kind):
        if value is None: return None
        if isinstance(kind, T.DecimalType): return Decimal(str(value)).quantize(Decimal("0.01"))
        if isinstance(kind, T.TimestampType): return datetime.fromisoformat(value)
        if isinstance(kind, T.DateType): return date.fromisoformat(value)
        return value
    tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table' order by name")]
    for row in spark.sql("show tables in raw").collect():
        if row.tableName not in tables:
            spark.sql("drop table raw.`%s`" % row.tableName.replace("`", "``"))
    for name in tables:
        info = db.execute("pragma table_info(\"%s\")" % name).fetchall()
        schema = T.StructType([T.StructField(c[1], spark_type(c[2]), True) for c in info])
        rows = [
            tuple(convert(v, f.dataType) for v, f in zip(row, schema.fields))
            for row in db.execute("select * from \"%s\"" % name)
        ]
        frame = spark.createDataFrame(rows, schema).coalesce(1)
        frame.write.mode("overwrite").saveAsTable("raw.`%s`" % name.replace("`", "``"))
    spark.stop()
    """#

  static func load(_ project: Project, migrated: Bool) async throws {
    var arguments = ["-c", loader, project.base + "/spark.tsv", Acme.seed]
    if migrated { arguments.append(Acme.sqliteMigration) }
    let result = try await CLI.run(
      executable: URL(fileURLWithPath: project.python), arguments, environment: project.environment,
      directory: project.base)
    try #require(result.status == 0, "loading acme into spark: \(result.stderr.suffix(3000))")
  }

  static func withAcme(_ body: (Project) async throws -> Void) async throws {
    let (dbt, python): (String, String)
    switch tools {
    case .success(let found): (dbt, python) = found
    case .failure(let missing):
      Issue.record("Spark is not installed: \(missing.description)")
      return
    }
    let scratch = try Scratch()
    defer { scratch.remove() }
    let base = scratch.file("spark")
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    try settings(base: base).map { "\($0.0)\t\($0.1)" }.joined(separator: "\n")
      .write(toFile: base + "/spark.tsv", atomically: true, encoding: .utf8)
    let directory = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: directory)
    for generated in ["target", "logs", "dbt_packages"] {
      try? FileManager.default.removeItem(atPath: directory + "/" + generated)
    }
    try profiles(base: base).write(toFile: directory + "/profiles.yml", atomically: true, encoding: .utf8)
    let project = Project(
      directory: directory, base: base, dbt: dbt, python: python, state: "sqlite:" + scratch.file("state.db"),
      environment: ["DRIFTWATCH_DBT": dbt, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"])
    try await body(project)
  }

  func driftwatch(_ arguments: [String], _ project: Project) async throws -> (CLI.Result, Double) {
    let started = Date()
    let result = try await CLI.run(
      arguments + ["--project", project.directory, "--profiles-dir", project.directory],
      environment: project.environment)
    return (result, Date().timeIntervalSince(started))
  }

  @Test(.enabled(if: enabled), .timeLimit(.minutes(30)))
  func acmeIncidentThroughDbtSparkSession() async throws {
    try await Self.withAcme { project in
      let started = Date()
      try await Self.load(project, migrated: false)
      let loaded = Date().timeIntervalSince(started)

      // Profiles and keyed samples through dbt-spark (keys from acme's unique tests: Spark has no keys).
      let (taken, snapshotSeconds) = try await driftwatch(["snapshot", "--state", project.state], project)
      #expect(taken.status == 0, "\(taken.stderr)")
      #expect(
        taken.stdout.contains("3 tables, 18 columns profiled, 3000 keys sampled from 3 tables"),
        "\(taken.stdout)")

      try await Self.load(project, migrated: true)

      // The seed's incident named (table rename, key rename, split, remap) and proven from the data.
      let (broken, checkSeconds) = try await driftwatch(
        ["check", "--format", "json", "--state", project.state], project)
      #expect(broken.status == 1, "\(broken.stderr)")
      let report = try CLI.json(broken.stdout)
      #expect((report["warehouse"] as? String)?.contains("spark") == true)
      try AcmeEvidence.expectProven(report)
      print(
        String(
          format: "spark: load %.1fs, snapshot %.1fs, check %.1fs, total %.1fs", loaded, snapshotSeconds,
          checkSeconds, Date().timeIntervalSince(started)))
    }
  }
}
