import DriftwatchCore
import Foundation

/// Hostile warehouse names for the fix drafter and the renderers: a deterministic generator (fixed seed)
/// and a small project whose source table the warehouse renamed to one of them.
public struct HostileNames {
  /// SplitMix64: the same seed gives the same names on every machine.
  struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
  }

  /// What names are made of: the characters that mean something to a path, Jinja, SQL, YAML, a terminal,
  /// markdown or Slack, and ordinary letters between them.
  public static let pieces: [String] = [
    "a", "b", "Z", "_", "0", "7", " ", "'", "\"", "\\", "\n", "\r", "\t", "{{", "{%", "{#", "}}", "%}", "#}",
    "{", "}", "/", "..", "../", "`", "<", ">", "&", "|", "#", ":", ": ", " #", "-", "%", ",", "!", "[", "]",
    "(", ")", "*", "@channel", "<!channel>", "\u{1B}", "\u{1B}]0;pwned\u{07}", "\u{07}", "\u{08}", "\u{7F}",
    "\u{85}", "\u{9B}", "\u{202E}", "\u{2028}", "\u{FEFF}", "é", "日本", "🙂", "ß", "--", ";", "$", "~", "yes",
    "null",
  ]

  var generator: Generator

  public init(seed: UInt64) { generator = Generator(state: seed) }

  /// One name: up to 12 pieces, one in 16 very long (300+ characters); never empty, no NUL. Without
  /// `jinja`, drawn again until it holds no Jinja delimiter (single braces, `%` and `#` stay).
  public mutating func name(jinja: Bool = true) -> String {
    while true {
      let name = draw()
      if jinja || JinjaEscape.delimiter(in: name) == nil { return name }
    }
  }

  mutating func draw() -> String {
    var out = ""
    let count = 1 + generator.below(12)
    for _ in 0..<count { out += Self.pieces[generator.below(Self.pieces.count)] }
    if generator.below(16) == 0 { out += String(repeating: "long_", count: 60 + generator.below(20)) }
    return out
  }

  /// Whether a test wants this name to hold a Jinja delimiter (the drafter refuses those).
  public static func holdsJinja(_ texts: [String]) -> Bool {
    texts.contains { JinjaEscape.delimiter(in: $0) != nil }
  }
}

/// A one-source project (`app.raw_users`: `id`, `plan` with accepted values) that a warehouse broke: the
/// table is now `table`, `id` is now `key`, a column `extra` of type `type` appeared, and the values of `plan`
/// are now `values`.
public struct HostileFixture {
  public var table: String
  public var key: String
  public var extra: String
  public var type: String
  public var values: [String]

  public init(table: String, key: String, extra: String, type: String, values: [String]) {
    self.table = table
    self.key = key
    self.extra = extra
    self.type = type
    self.values = values
  }

  /// The names are usable together: distinct (case-insensitively, as the drafter compares them).
  public var isCoherent: Bool {
    let columns = [key, extra, "plan"].map { $0.lowercased() }
    return Set(columns).count == 3 && Set(values).count == values.count && !values.contains("free")
      && !values.contains("pro") && values.count == 2 && !table.isEmpty && !key.isEmpty && !extra.isEmpty
  }

  public var hostile: [String] { [table, key, extra, type] + values }

  public static let sourceID = "source.shop.app.raw_users"

  public static let dbtProject = """
    name: shop
    version: '1.0'
    config-version: 2
    profile: shop
    model-paths: ["models"]
    test-paths: ["tests"]

    """

  public static let yml = """
    version: 2

    sources:
      - name: app
        schema: raw
        tables:
          - name: raw_users
            columns:
              - name: id
                data_type: integer
                data_tests:
                  - unique
              - name: plan
                data_type: text
                data_tests:
                  - accepted_values:
                      arguments:
                        values: ['free', 'pro']

    """

  public static let model = """
    select id, plan
    from {{ source('app', 'raw_users') }}

    """

  /// The project's files, by path relative to its root.
  public static var files: [String: String] {
    ["dbt_project.yml": dbtProject, "models/src_app.yml": yml, "models/stg_users.sql": model]
  }

  public var project: ProjectGraph {
    let users = SourceTable(
      uniqueID: Self.sourceID, packageName: "shop", sourceName: "app", name: "raw_users", schema: "raw",
      columns: [.init(name: "id", dataType: "integer"), .init(name: "plan", dataType: "text")],
      filePath: "models/src_app.yml")
    let nodes = [
      GraphNode(
        uniqueID: "model.shop.stg_users", resourceType: .model, name: "stg_users", packageName: "shop",
        dependsOn: [Self.sourceID], filePath: "models/stg_users.sql", rawCode: Self.model),
      GraphNode(
        uniqueID: "test.shop.accepted_values_plan", resourceType: .test, name: "accepted_values_plan",
        packageName: "shop", dependsOn: [Self.sourceID], filePath: "models/src_app.yml",
        test: TestInfo(
          testName: "accepted_values", columnName: "plan", attachedNode: Self.sourceID,
          acceptedValues: ["free", "pro"])),
    ]
    return ProjectGraph(projectName: "shop", sources: [users], nodes: nodes)
  }

  public var live: LiveSchema {
    LiveSchema(
      inspected: [SchemaRef(schema: "raw")],
      tables: [
        LiveTable(
          schema: SchemaRef(schema: "raw"), name: table,
          columns: [
            LiveColumn(name: key, dataType: "integer", position: 1, isKey: true),
            LiveColumn(name: "plan", dataType: "text", position: 2),
            LiveColumn(name: extra, dataType: type, position: 3),
          ])
      ])
  }

  public var report: DriftReport {
    let radius = BlastRadius(models: ["model.shop.stg_users"], tests: ["test.shop.accepted_values_plan"])
    let relation = "raw.\(table)"
    let renamed = DriftChange(
      kind: .tableRenamed, source: "app.raw_users", sourceID: Self.sourceID, relation: relation,
      from: "raw_users", to: .one(table), confidence: 0.95, breaking: true,
      evidence: ["raw_users is gone and \(table) appeared with its columns"], blastRadius: radius)
    let key = DriftChange(
      kind: .columnRenamed, source: "app.raw_users", sourceID: Self.sourceID, relation: relation, from: "id",
      to: .one(self.key), confidence: 0.95, breaking: true, evidence: ["id → \(self.key): same values"],
      parent: renamed.id, blastRadius: radius)
    var remap = DriftChange(
      kind: .valuesRemapped, source: "app.raw_users", sourceID: Self.sourceID, relation: relation,
      from: "plan", to: .one("plan"), column: "plan", confidence: 0.9, breaking: true,
      evidence: ["plan now holds \(values.joined(separator: ", "))"], parent: renamed.id, blastRadius: radius)
    remap.mapping = [
      ValueMapping(old: "free", new: values[0], support: 9, total: 9),
      ValueMapping(old: "pro", new: values[1], support: 3, total: 3),
    ]
    remap.values = values
    let added = DriftChange(
      kind: .columnAdded, source: "app.raw_users", sourceID: Self.sourceID, relation: relation, from: nil,
      to: .one(extra), confidence: 1, evidence: ["\(extra) (\(type)) is new"], parent: renamed.id)
    let nodes: [String: NodeLabel] = [
      "model.shop.stg_users": NodeLabel(
        uniqueID: "model.shop.stg_users", name: "stg_users", resourceType: .model, label: nil,
        exposureType: nil,
        parents: [Self.sourceID]),
      Self.sourceID: NodeLabel(
        uniqueID: Self.sourceID, name: table, resourceType: .source, label: table, exposureType: nil),
      "exposure.shop.board": NodeLabel(
        uniqueID: "exposure.shop.board", name: "board", resourceType: .exposure, label: extra,
        exposureType: "dashboard", parents: ["model.shop.stg_users"]),
    ]
    return DriftReport(
      project: "shop", warehouse: "postgres://ci@staging/\(table)", schemas: ["raw"], sourcesChecked: 1,
      changes: [renamed, key, remap, added],
      blastRadius: BlastRadius(
        models: ["model.shop.stg_users"], tests: ["test.shop.accepted_values_plan"],
        exposures: ["exposure.shop.board"]),
      nodes: nodes)
  }

  /// Answers to every question the drafter asks here (the value mapping).
  public var decisions: Decisions {
    let remap = report.changes.first { $0.kind == .valuesRemapped }?.id ?? ""
    return Decisions([remap: Decision(mapping: ["free": values[0], "pro": values[1]])])
  }
}

/// Drafted SQL as dbt would hand it to the database, for the `{{ '…' }}` pieces driftwatch writes: each is
/// replaced by its value (the escapes of `JinjaEscape.stringLiteral`); other expressions are left as they are.
public enum DraftedJinja {
  public static func renderingStringPieces(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      if index + 4 < scalars.count, scalars[index] == "{", scalars[index + 1] == "{",
        scalars[index + 2] == " ",
        scalars[index + 3] == "'", let (value, end) = literal(scalars, from: index + 3),
        end + 3 <= scalars.count, scalars[end] == " ", scalars[end + 1] == "}", scalars[end + 2] == "}"
      {
        out.append(contentsOf: value.unicodeScalars)
        index = end + 3
        continue
      }
      out.append(scalars[index])
      index += 1
    }
    return String(out)
  }

  /// The value of the single-quoted literal at `start`, and the index after its closing quote.
  static func literal(_ scalars: [Unicode.Scalar], from start: Int) -> (String, Int)? {
    var out = String.UnicodeScalarView()
    var index = start + 1
    while index < scalars.count {
      let scalar = scalars[index]
      if scalar == "'" { return (String(out), index + 1) }
      if scalar == "\\", index + 1 < scalars.count {
        let next = scalars[index + 1]
        switch next {
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "x":
          guard index + 3 < scalars.count,
            let value = UInt32(
              String(String.UnicodeScalarView(scalars[(index + 2)...(index + 3)])), radix: 16),
            let decoded = Unicode.Scalar(value)
          else { return nil }
          out.append(decoded)
          index += 4
          continue
        default: out.append(next)
        }
        index += 2
        continue
      }
      out.append(scalar)
      index += 1
    }
    return nil
  }

  /// The double-quoted SQL identifiers in `sql` (`""` inside one is a `"`), outside single-quoted literals.
  public static func quotedIdentifiers(_ sql: String) -> [String] {
    let scalars = Array(sql.unicodeScalars)
    var names: [String] = []
    var index = 0
    while index < scalars.count {
      let scalar = scalars[index]
      if scalar == "'" || scalar == "\"" {
        var value = String.UnicodeScalarView()
        var cursor = index + 1
        while cursor < scalars.count {
          if scalars[cursor] == scalar {
            if cursor + 1 < scalars.count, scalars[cursor + 1] == scalar {
              value.append(scalar)
              cursor += 2
              continue
            }
            break
          }
          value.append(scalars[cursor])
          cursor += 1
        }
        if scalar == "\"" { names.append(String(value)) }
        index = cursor + 1
        continue
      }
      if scalar == "-", index + 1 < scalars.count, scalars[index + 1] == "-" {
        while index < scalars.count, scalars[index] != "\n" { index += 1 }
        continue
      }
      index += 1
    }
    return names
  }
}
