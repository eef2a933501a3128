import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Input made to break the readers, run through the real executable (whose threads have full-size stacks, as
/// a user's would): one clear line and exit 2, never a crash, a silent skip or a password.
@Suite("hostile input")
struct HostileInputTests {
  static let deep = 80_000

  /// A project with `files` (paths relative to it), in a fresh scratch directory.
  static func project(_ files: [String: String], in scratch: Scratch) throws -> String {
    let root = scratch.file("project")
    var all = files
    if all["dbt_project.yml"] == nil { all["dbt_project.yml"] = "name: p\nversion: '1.0'\nprofile: p\n" }
    for (relative, text) in all {
      let path = root + "/" + relative
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    return root
  }

  static func expectOneLineError(
    _ result: CLI.Result, mentions words: [String], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(
      result.status == 2, "exit \(result.status): \(result.stderr.prefix(500))",
      sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "stdout: \(result.stdout.prefix(500))", sourceLocation: sourceLocation)
    #expect(
      result.stderr.split(separator: "\n").count == 1, "not one line: \(result.stderr.prefix(500))",
      sourceLocation: sourceLocation)
    for word in words {
      #expect(
        result.stderr.contains(word), "stderr lacks '\(word)': \(result.stderr.prefix(500))",
        sourceLocation: sourceLocation)
    }
  }

  // MARK: Nesting (item 4)

  @Test func deeplyNestedYAMLInASourcesFile() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let open = String(repeating: "[", count: Self.deep)
    for (name, text) in [
      ("unclosed.yml", "version: 2\nsources: " + open + "\n"),
      ("closed.yml", "version: 2\nsources: " + open + String(repeating: "]", count: Self.deep) + "\n"),
      ("mappings.yml", "version: 2\nsources: " + String(repeating: "{a: ", count: Self.deep) + "\n"),
    ] {
      let root = try Self.project(["models/\(name)": text], in: scratch)
      Self.expectOneLineError(
        try await CLI.run(["lineage", "--project", root, "source:raw.a"]),
        mentions: ["models/\(name):2:", "nests deeper than 512 levels"])
      try FileManager.default.removeItem(atPath: root)
    }
    // Block mappings, one level a line (3,000 levels: 4.5 MB).
    let block = (0..<3_000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n") + " x\n"
    let root = try Self.project(["models/block.yml": "version: 2\nmodels:\n" + block], in: scratch)
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", root, "source:raw.a"]),
      mentions: ["models/block.yml:", "nests deeper than 512 levels"])
  }

  @Test func deeplyNestedDbtProjectYml() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.project(
      ["dbt_project.yml": "name: p\nprofile: p\nvars: " + String(repeating: "[", count: Self.deep) + "\n"],
      in: scratch)
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", root, "x"]),
      mentions: ["dbt_project.yml:", "nests deeper than 512"])
  }

  @Test func deeplyNestedJinjaInProfilesYml() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let depth = 50_000
    let host =
      "{{ " + String(repeating: "(", count: depth) + "'h'" + String(repeating: ")", count: depth) + " }}"
    let root = try Self.project(
      [
        "models/a.sql": "select 1 as id",
        "profiles.yml": """
        p:
          target: dev
          outputs:
            dev: {type: postgres, host: "\(host)", port: 1, user: u, password: pw, dbname: d, schema: s}
        """,
      ], in: scratch)
    Self.expectOneLineError(
      try await CLI.run(["check", "--project", root, "--profiles-dir", root]),
      mentions: ["profiles.yml:", "`host`", "nests deeper than 100 levels"])
  }

  @Test func deeplyNestedManifestAndCatalog() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let nested = String(repeating: "[", count: Self.deep) + String(repeating: "]", count: Self.deep)
    let manifest =
      "{\"metadata\": {\"project_name\": \"p\"}, \"sources\": {}, \"nodes\": {\"test.p.t\": "
      + "{\"resource_type\": \"test\", \"name\": \"t\", \"package_name\": \"p\", \"test_metadata\": "
      + "{\"name\": \"not_null\", \"kwargs\": {\"deep\": \(nested)}}, \"depends_on\": {\"nodes\": []}}}}"
    try manifest.write(toFile: scratch.file("manifest.json"), atomically: true, encoding: .utf8)
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--manifest", scratch.file("manifest.json"), "t"]),
      mentions: ["manifest.json", "not a dbt manifest", "json nested deeper than 512 levels"])
    // Nesting in a value the reader skips is skipped without recursion: read, then the selector is answered.
    try manifest.replacingOccurrences(of: "\"test_metadata\"", with: "\"meta\"").write(
      toFile: scratch.file("skipped.json"), atomically: true, encoding: .utf8)
    let skipped = try await CLI.run(["lineage", "--manifest", scratch.file("skipped.json"), "t"])
    #expect(skipped.status == 0, "\(skipped.stderr.prefix(300))")
    #expect(skipped.stdout.contains("test.p.t"), "\(skipped.stdout.prefix(300))")
    // catalog.json (read with Foundation's decoder, which stops at 512 levels).
    try "{\"nodes\": {\"x\": \(nested)}, \"sources\": {}}".write(
      toFile: scratch.file("catalog.json"), atomically: true, encoding: .utf8)
    Self.expectOneLineError(
      try await CLI.run(["check", "--project", CLI.acme, "--catalog", scratch.file("catalog.json")]),
      mentions: ["catalog.json", "not a dbt catalog"])
  }

  @Test func deeplyNestedJinjaInAModelIsScannedWithoutRecursion() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let parentheses =
      String(repeating: "(", count: Self.deep) + "ref('a')" + String(repeating: ")", count: Self.deep)
    let root = try Self.project(
      ["models/a.sql": "select 1 as id", "models/b.sql": "select * from {{ \(parentheses) }}"], in: scratch)
    let result = try await CLI.run(["lineage", "--project", root, "a+"])
    #expect(result.status == 0, "\(result.stderr.prefix(300))")
    #expect(result.stdout.contains("model.p.b"), "\(result.stdout.prefix(300))")
  }

  // MARK: Unreadable parts of the project (item 6)

  /// The acme project copied into a world-readable scratch directory, with `models/extra/` declaring a source
  /// table the warehouse lacks, and a SQLite warehouse from the seed.
  static func acmeWithExtra(in scratch: Scratch) async throws -> (root: String, warehouse: String) {
    let root = scratch.file("acme")
    try FileManager.default.copyItem(atPath: CLI.acme, toPath: root)
    try FileManager.default.createDirectory(atPath: root + "/models/extra", withIntermediateDirectories: true)
    try """
    version: 2
    sources:
      - name: extra
        schema: raw
        tables:
          - name: raw_not_there
    """.write(toFile: root + "/models/extra/extra_sources.yml", atomically: true, encoding: .utf8)
    let warehouse = try await Acme.sqliteWarehouse(in: scratch, migrated: false)
    try worldReadable(scratch.path)
    return (root, warehouse)
  }

  /// Everything under `path` readable (and folders searchable) by every user.
  static func worldReadable(_ path: String) throws {
    chmod(path, 0o755)
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let relative = enumerator?.nextObject() as? String {
      let full = path + "/" + relative
      chmod(full, FileReadingTestSupport.isDirectory(full) ? 0o755 : 0o644)
    }
    // The temporary directory's parents must be searchable too (they are on Linux: /tmp is 1777).
  }

  /// Runs driftwatch as an unprivileged user when this process is root (for whom mode 000 is readable), else
  /// as this user.
  static func runUnprivileged(_ arguments: [String]) async throws -> CLI.Result {
    guard geteuid() == 0 else { return try await CLI.run(arguments) }
    return try await CLI.run(
      executable: URL(fileURLWithPath: "/usr/bin/setpriv"),
      ["--reuid=65534", "--regid=65534", "--clear-groups", "--", try CLI.executable.path] + arguments)
  }

  @Test func unreadableFolderIsAnErrorNotASkip() async throws {
    let scratch = try Scratch()
    defer {
      chmod(scratch.file("acme/models/extra"), 0o755)
      chmod(scratch.file("acme/dbt_packages/helpers"), 0o755)
      scratch.remove()
    }
    let (root, warehouse) = try await Self.acmeWithExtra(in: scratch)
    let arguments = ["check", "--project", root, "--warehouse", "sqlite:\(warehouse)"]
    // Readable: the missing table is reported.
    let readable = try await Self.runUnprivileged(arguments)
    #expect(readable.status != 2, "\(readable.stderr)")
    #expect(readable.stdout.contains("raw_not_there"), "\(readable.stdout)")
    // Unreadable: an error naming the folder, never "no drift".
    #expect(chmod(root + "/models/extra", 0) == 0)
    let unreadable = try await Self.runUnprivileged(arguments)
    Self.expectOneLineError(unreadable, mentions: ["models/extra", "permission denied"])
    // A file dbt would read, unreadable.
    #expect(chmod(root + "/models/extra", 0o755) == 0)
    #expect(chmod(root + "/models/extra/extra_sources.yml", 0) == 0)
    await Self.expectOneLineError(
      try Self.runUnprivileged(arguments), mentions: ["models/extra/extra_sources.yml", "permission denied"])
    #expect(chmod(root + "/models/extra/extra_sources.yml", 0o644) == 0)
    // An installed package that cannot be looked into: not dropped without a word.
    let package = root + "/dbt_packages/helpers"
    try FileManager.default.createDirectory(atPath: package + "/models", withIntermediateDirectories: true)
    try "name: helpers\nversion: '1.0'\n".write(
      toFile: package + "/dbt_project.yml", atomically: true, encoding: .utf8)
    try "select 1 as id".write(toFile: package + "/models/helper.sql", atomically: true, encoding: .utf8)
    try Self.worldReadable(root + "/dbt_packages")
    await #expect(try Self.runUnprivileged(arguments).status != 2)
    #expect(chmod(package, 0) == 0)
    await Self.expectOneLineError(
      try Self.runUnprivileged(arguments), mentions: ["dbt_packages/helpers", "permission denied"])
    #expect(chmod(package, 0o755) == 0)
    // dbt_project.yml unreadable: not called missing.
    #expect(chmod(root + "/dbt_project.yml", 0) == 0)
    await Self.expectOneLineError(
      try Self.runUnprivileged(arguments), mentions: ["cannot read dbt_project.yml", "permission denied"])
    #expect(chmod(root + "/dbt_project.yml", 0o644) == 0)
  }

  /// dbt walks model folders with `os.walk`: links to files are read, links to folders are not followed, and a
  /// link to nothing (or a loop) among the files it reads stops it with an error.
  @Test func symbolicLinksAsDbtReadsThem() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.project(
      [
        "models/a.sql": "select 1 as id", "elsewhere/linked_file.sql": "select * from {{ ref('a') }}",
        "elsewhere/folder/in_linked_folder.sql": "select * from {{ ref('a') }}",
      ], in: scratch)
    try FileManager.default.createSymbolicLink(
      atPath: root + "/models/linked_file.sql", withDestinationPath: "../elsewhere/linked_file.sql")
    try FileManager.default.createSymbolicLink(
      atPath: root + "/models/linked_folder", withDestinationPath: "../elsewhere/folder")
    try FileManager.default.createSymbolicLink(
      atPath: root + "/models/notes.md", withDestinationPath: "nowhere.md")
    let listed = try await CLI.run(["lineage", "--project", root, "a+"])
    #expect(listed.status == 0, "\(listed.stderr)")
    #expect(listed.stdout.contains("linked_file"))
    #expect(!listed.stdout.contains("in_linked_folder"))
    // A link to nothing where a model would be.
    try FileManager.default.createSymbolicLink(
      atPath: root + "/models/broken.sql", withDestinationPath: "nowhere.sql")
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", root, "a+"]),
      mentions: ["models/broken.sql", "no such file"])
    try FileManager.default.removeItem(atPath: root + "/models/broken.sql")
    // A link to itself.
    try FileManager.default.createSymbolicLink(
      atPath: root + "/models/loop.yml", withDestinationPath: "loop.yml")
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", root, "a+"]),
      mentions: ["models/loop.yml", "symbolic links"])
  }

  // MARK: Other wrong answers (item 10)

  @Test func fileAsProjectIsNotCalledMissing() async throws {
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", CLI.acme + "/dbt_project.yml", "x"]),
      mentions: ["dbt_project.yml is a file, not a directory"])
  }

  @Test func negativeSampleSizeIsOutOfRange() async throws {
    let result = try await CLI.run([
      "snapshot", "--project", CLI.acme, "--warehouse", "sqlite:x.db", "--sample-size", "-1",
    ])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--sample-size must be between 0 and 100000"), "\(result.stderr)")
    #expect(!result.stderr.contains("missing value"))
    let threshold = try await CLI.run([
      "fix", "--project", CLI.acme, "--warehouse", "sqlite:x.db", "--threshold", "-0.5",
    ])
    #expect(threshold.status == 2)
    #expect(threshold.stderr.contains("--threshold must be between 0 and 1"), "\(threshold.stderr)")
  }

  @Test func fullDiskIsAnError() throws {
    guard FileManager.default.isWritableFile(atPath: "/dev/full") else { return }
    let process = Process()
    process.executableURL = try CLI.executable
    process.arguments = ["lineage", "--project", CLI.acme, "stg_customers+"]
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 2)
    #expect(stderr.contains("cannot write to standard output (no space left on device)"), "\(stderr)")
  }

  @Test func refCycleIsRefusedAsDbtDoes() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = try Self.project(
      [
        "models/a.sql": "select * from {{ ref('c') }}", "models/b.sql": "select * from {{ ref('a') }}",
        "models/c.sql": "select * from {{ ref('b') }}", "models/d.sql": "select * from {{ ref('a') }}",
      ], in: scratch)
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", root, "a+"]),
      mentions: ["found a cycle: model.p.a --> model.p.b --> model.p.c --> model.p.a"])
    // A model that refs itself.
    let own = try Self.project(["models/s.sql": "select * from {{ ref('s') }}"], in: Scratch())
    defer { try? FileManager.default.removeItem(atPath: (own as NSString).deletingLastPathComponent) }
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--project", own, "s"]),
      mentions: ["found a cycle: model.p.s --> model.p.s"])
    // In a manifest too.
    func node(_ name: String, _ parent: String) -> String {
      "\"model.p.\(name)\": {\"resource_type\": \"model\", \"name\": \"\(name)\", \"package_name\": \"p\", "
        + "\"depends_on\": {\"nodes\": [\"model.p.\(parent)\"]}}"
    }
    try
      "{\"metadata\": {\"project_name\": \"p\"}, \"sources\": {}, \"nodes\": {\(node("x", "y")), \(node("y", "x"))}}"
      .write(toFile: scratch.file("manifest.json"), atomically: true, encoding: .utf8)
    Self.expectOneLineError(
      try await CLI.run(["lineage", "--manifest", scratch.file("manifest.json"), "x"]),
      mentions: ["manifest.json", "found a cycle: model.p.x --> model.p.y --> model.p.x"])
  }
}

enum FileReadingTestSupport {
  static func isDirectory(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
  }
}

/// At the limit, everything downstream of the YAML readers that recurses over the tree (Python values, test
/// names and hashes, config resolution, freeing the tree) still runs: a legal document never crashes.
@Suite("input at the nesting limit")
struct NestingAtTheLimitTests {
  @Test func deepestLegalYAMLIsReadWholly() async throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    // Inside `models: - tests: - accepted_values: values:` the document is already 7 levels deep.
    let depth = 500
    let nested = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
    let config = String(repeating: "{x: ", count: depth) + "1" + String(repeating: "}", count: depth)
    let root = try HostileInputTests.project(
      [
        "dbt_project.yml": "name: p\nversion: '1.0'\nprofile: p\nmodels:\n  p:\n    +meta: \(config)\n",
        "models/a.sql": "select 1 as id",
        "models/a.yml": """
        version: 2
        models:
          - name: a
            meta: \(config)
            columns:
              - name: id
                tests:
                  - accepted_values:
                      values: \(nested)
        """,
      ], in: scratch)
    let result = try await CLI.run(["lineage", "--project", root, "a+", "--format", "json"])
    #expect(result.status == 0, "\(result.stderr.prefix(500))")
    #expect(result.stdout.contains("test.p.accepted_values_a"), "\(result.stdout.prefix(500))")
  }
}
