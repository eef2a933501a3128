import DriftwatchCore
import Foundation

/// Reads dbt's `target/manifest.json` (schema v12, written by dbt 1.8 to 1.11; other versions are read
/// for the same fields when present) into the same `ProjectGraph` `DbtProjectReader` builds from files.
///
/// Only the fields driftwatch uses are decoded. Nodes of kinds driftwatch does not model (operations,
/// hooks, functions) are skipped; so are disabled nodes, semantic models, metrics and unit tests. dbt keeps
/// a test whose parent is disabled among the nodes, with `config.enabled: false` and the parent cut from
/// its `depends_on`; such tests never run, and are skipped here as `DbtProjectReader` skips them.
/// Generic tests on sources carry no `attached_node` in dbt's manifest; the source is recovered from the
/// test's `model` argument, so `TestInfo.attachedNode` is set for them as `DbtProjectReader` sets it.
/// Declared column order is kept (JSON objects are read in file order).
public enum ManifestReader {
  public static func read(path: String) throws -> ProjectGraph {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DbtError(
        "no manifest at \(path); run `dbt parse` in the project to write target/manifest.json, or pass its path"
      )
    }
    return try read(data: data, path: path)
  }

  /// `path` is only used in messages.
  public static func read(data: Data, path: String = "manifest.json") throws -> ProjectGraph {
    let manifest: SlimManifest
    do {
      manifest = try JSONDecoder().decode(SlimManifest.self, from: data)
    } catch let error as DecodingError {
      throw DbtError(
        "not a dbt manifest (\(describe(error))); regenerate it with `dbt parse`", file: path)
    }
    let columnOrder = JSONKeyOrder.sourceColumnOrder(data)
    let projectName =
      manifest.metadata?.projectName
      ?? manifest.nodes.values.filter { $0.resourceType == "model" }.map(\.packageName).sorted().first ?? ""

    var sources: [SourceTable] = []
    for (id, source) in manifest.sources ?? [:] {
      let byName = source.columns ?? [:]
      let ordered = (columnOrder[id] ?? []).filter { byName[$0] != nil }
      let names = ordered.count == byName.count ? ordered : byName.keys.sorted()
      sources.append(
        SourceTable(
          uniqueID: id, packageName: source.packageName, sourceName: source.sourceName, name: source.name,
          database: source.database, schema: source.schema ?? source.sourceName,
          identifier: source.identifier ?? source.name,
          columns: names.compactMap { key in
            byName[key].map { DeclaredColumn(name: $0.name ?? key, dataType: $0.dataType) }
          },
          filePath: source.originalFilePath, tags: GraphAssembler.normalizedTags(source.tags ?? [])))
    }
    let sourcesByName = Dictionary(
      sources.map { ("\($0.packageName)\u{0}\($0.sourceName)\u{0}\($0.name)", $0.uniqueID) },
      uniquingKeysWith: { first, _ in first })

    var nodes: [GraphNode] = []
    let kept: Set<ResourceType> = [.model, .seed, .snapshot, .test, .analysis]
    for (id, node) in manifest.nodes {
      guard let type = ResourceType(rawValue: node.resourceType), kept.contains(type) else { continue }
      // dbt leaves tests whose parents are disabled among the nodes, disabled and cut from their parents.
      guard node.config?.enabled ?? true else { continue }
      var test: TestInfo?
      var rawCode = node.rawCode.flatMap { $0.isEmpty ? nil : $0 }
      if type == .test {
        if let metadata = node.testMetadata {
          rawCode = nil
          let name = metadata.name ?? ""
          let qualified = metadata.namespace.map { "\($0).\(name)" } ?? name
          let column = node.columnName ?? metadata.kwargs?.columnName
          test = TestInfo(
            testName: qualified, columnName: column.map(GraphAssembler.unquote),
            attachedNode: node.attachedNode
              ?? attachedSource(
                model: metadata.kwargs?.model, package: node.packageName,
                dependsOn: node.dependsOn?.nodes ?? [],
                sources: sourcesByName),
            acceptedValues: name == "accepted_values" ? metadata.kwargs?.values?.map(\.pythonStr) : nil)
        } else {
          test = TestInfo(testName: "singular")
        }
      } else if type == .seed {
        rawCode = nil
      }
      nodes.append(
        GraphNode(
          uniqueID: id, resourceType: type, name: node.name, packageName: node.packageName,
          dependsOn: node.dependsOn?.nodes ?? [], filePath: node.originalFilePath,
          tags: GraphAssembler.normalizedTags(node.tags ?? []), rawCode: rawCode, test: test))
    }
    for (id, exposure) in manifest.exposures ?? [:] {
      nodes.append(
        GraphNode(
          uniqueID: id, resourceType: .exposure, name: exposure.name, packageName: exposure.packageName,
          dependsOn: exposure.dependsOn?.nodes ?? [], filePath: exposure.originalFilePath,
          tags: GraphAssembler.normalizedTags(exposure.tags ?? []), exposureType: exposure.type,
          label: exposure.label))
    }
    return ProjectGraph(projectName: projectName, sources: sources, nodes: nodes)
  }

  /// A source test's `model` argument is `{{ get_where_subquery(source('s', 't')) }}`.
  private static func attachedSource(
    model: String?, package: String, dependsOn: [String], sources: [String: String]
  ) -> String? {
    guard let model, let call = (try? JinjaScanner.scan(model))?.sources.first else { return nil }
    let key = "\(package)\u{0}\(call.sourceName)\u{0}\(call.tableName)"
    if let id = sources[key] { return id }
    let suffix = ".\(call.sourceName).\(call.tableName)"
    return dependsOn.first { $0.hasPrefix("source.") && $0.hasSuffix(suffix) }
  }

  static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let components = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return components.isEmpty ? "top level" : components.joined(separator: ".")
    }
    switch error {
    case .dataCorrupted(let context): return "invalid json near \(path(context))"
    case .keyNotFound(let key, let context): return "missing `\(key.stringValue)` at \(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "unexpected value at \(path(context))"
    @unknown default: return "unreadable json"
    }
  }
}

// MARK: - Slim manifest

private struct SlimManifest: Decodable {
  struct Metadata: Decodable {
    var projectName: String?
    enum CodingKeys: String, CodingKey { case projectName = "project_name" }
  }

  struct DependsOn: Decodable {
    var nodes: [String]?
  }

  struct Kwargs: Decodable {
    var columnName: String?
    var values: [JSONScalar]?
    var model: String?
    enum CodingKeys: String, CodingKey {
      case columnName = "column_name"
      case values
      case model
    }

    init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      columnName = try? container.decodeIfPresent(String.self, forKey: .columnName)
      values = try? container.decodeIfPresent([JSONScalar].self, forKey: .values)
      model = try? container.decodeIfPresent(String.self, forKey: .model)
    }
  }

  struct TestMetadata: Decodable {
    var name: String?
    var namespace: String?
    var kwargs: Kwargs?
  }

  struct Config: Decodable {
    var enabled: Bool?
  }

  struct Node: Decodable {
    var config: Config?
    var resourceType: String
    var name: String
    var packageName: String
    var dependsOn: DependsOn?
    var originalFilePath: String?
    var tags: [String]?
    var rawCode: String?
    var testMetadata: TestMetadata?
    var attachedNode: String?
    var columnName: String?
    enum CodingKeys: String, CodingKey {
      case resourceType = "resource_type"
      case name
      case packageName = "package_name"
      case dependsOn = "depends_on"
      case originalFilePath = "original_file_path"
      case tags
      case rawCode = "raw_code"
      case rawSQL = "raw_sql"
      case testMetadata = "test_metadata"
      case attachedNode = "attached_node"
      case columnName = "column_name"
      case config
    }

    init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      config = try? container.decodeIfPresent(Config.self, forKey: .config)
      resourceType = try container.decode(String.self, forKey: .resourceType)
      name = try container.decode(String.self, forKey: .name)
      packageName = try container.decode(String.self, forKey: .packageName)
      // Fields driftwatch can do without are read leniently: a surprising shape in one of them must not
      // make a whole manifest unreadable.
      dependsOn = try? container.decodeIfPresent(DependsOn.self, forKey: .dependsOn)
      originalFilePath = try? container.decodeIfPresent(String.self, forKey: .originalFilePath)
      tags = try? container.decodeIfPresent([String].self, forKey: .tags)
      // `raw_sql` before dbt 1.3.
      rawCode =
        (try? container.decodeIfPresent(String.self, forKey: .rawCode))
        ?? (try? container.decodeIfPresent(String.self, forKey: .rawSQL))
      testMetadata = try? container.decodeIfPresent(TestMetadata.self, forKey: .testMetadata)
      attachedNode = try? container.decodeIfPresent(String.self, forKey: .attachedNode)
      columnName = try? container.decodeIfPresent(String.self, forKey: .columnName)
    }
  }

  struct Column: Decodable {
    var name: String?
    var dataType: String?
    enum CodingKeys: String, CodingKey {
      case name
      case dataType = "data_type"
    }
  }

  struct Source: Decodable {
    var name: String
    var sourceName: String
    var packageName: String
    var database: String?
    var schema: String?
    var identifier: String?
    var columns: [String: Column]?
    var originalFilePath: String?
    var tags: [String]?
    enum CodingKeys: String, CodingKey {
      case name
      case tags
      case sourceName = "source_name"
      case packageName = "package_name"
      case database
      case schema
      case identifier
      case columns
      case originalFilePath = "original_file_path"
    }
  }

  struct Exposure: Decodable {
    var name: String
    var packageName: String
    var type: String?
    var label: String?
    var dependsOn: DependsOn?
    var originalFilePath: String?
    var tags: [String]?
    enum CodingKeys: String, CodingKey {
      case name
      case packageName = "package_name"
      case type
      case label
      case dependsOn = "depends_on"
      case originalFilePath = "original_file_path"
      case tags
    }
  }

  var metadata: Metadata?
  var nodes: [String: Node]
  var sources: [String: Source]?
  var exposures: [String: Exposure]?
}

/// A JSON scalar as Python's `str()` prints it (accepted values can be strings, numbers, booleans, null).
private enum JSONScalar: Decodable {
  case string(String)
  case int(Int)
  case double(Double)
  case bool(Bool)
  case null
  case other

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Int.self) {
      self = .int(value)
    } else if let value = try? container.decode(Double.self) {
      self = .double(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else {
      self = .other
    }
  }

  var pythonStr: String {
    switch self {
    case .string(let value): return value
    case .int(let value): return String(value)
    case .double(let value): return PyValue.float(value).pythonStr
    case .bool(let value): return value ? "True" : "False"
    case .null: return "None"
    case .other: return ""
    }
  }
}

// MARK: - Key order

/// Recovers the order of keys that `JSONDecoder` forgets: each source's `columns`, in file order (dbt
/// writes them in declaration order). One forward pass over the bytes, skipping everything else.
enum JSONKeyOrder {
  static func sourceColumnOrder(_ data: Data) -> [String: [String]] {
    data.withUnsafeBytes { raw -> [String: [String]] in
      var scanner = JSONSkipper(bytes: raw.bindMemory(to: UInt8.self))
      var result: [String: [String]] = [:]
      guard scanner.enterObject() else { return [:] }
      while let key = scanner.nextKey() {
        guard key == "sources", scanner.enterObject() else {
          guard scanner.skipValue() else { return result }
          continue
        }
        while let sourceID = scanner.nextKey() {
          guard scanner.enterObject() else {
            guard scanner.skipValue() else { return result }
            continue
          }
          while let field = scanner.nextKey() {
            if field == "columns", scanner.enterObject() {
              var names: [String] = []
              while let column = scanner.nextKey() {
                names.append(column)
                guard scanner.skipValue() else { return result }
              }
              result[sourceID] = names
            } else {
              guard scanner.skipValue() else { return result }
            }
          }
        }
        return result
      }
      return result
    }
  }
}

private struct JSONSkipper {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0
  /// Set after a key's value or an opening brace: the next token may be `,` then a key, or `}`.
  init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  mutating func skipSpace() {
    while index < bytes.count {
      let byte = bytes[index]
      guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
      index += 1
    }
  }

  /// Consumes `{` if it is next.
  mutating func enterObject() -> Bool {
    skipSpace()
    guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
    index += 1
    return true
  }

  /// The next key of the current object (consuming `"key":`), or `nil` at its `}` (consumed).
  mutating func nextKey() -> String? {
    skipSpace()
    if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
      index += 1
      skipSpace()
    }
    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
      if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1 }
      return nil
    }
    guard let key = readString() else { return nil }
    skipSpace()
    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
    index += 1
    return key
  }

  private mutating func readString() -> String? {
    index += 1
    let start = index
    var escaped = false
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\\") {
        escaped = true
        index += 2
        continue
      }
      if byte == UInt8(ascii: "\"") {
        let raw = UnsafeBufferPointer(rebasing: bytes[start..<index])
        index += 1
        if !escaped { return String(decoding: raw, as: UTF8.self) }
        let quoted = "\"" + String(decoding: raw, as: UTF8.self) + "\""
        return (try? JSONDecoder().decode(String.self, from: Data(quoted.utf8)))
          ?? String(decoding: raw, as: UTF8.self)
      }
      index += 1
    }
    return nil
  }

  /// Skips one value (object, array, string, number, literal). `false` on malformed input.
  mutating func skipValue() -> Bool {
    skipSpace()
    guard index < bytes.count else { return false }
    var depth = 0
    repeat {
      guard index < bytes.count else { return false }
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "\""):
        index += 1
        while index < bytes.count {
          let inner = bytes[index]
          if inner == UInt8(ascii: "\\") {
            index += 2
            continue
          }
          index += 1
          if inner == UInt8(ascii: "\"") { break }
        }
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        index += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        index += 1
      default:
        if depth == 0 {
          // A bare literal: up to the next delimiter.
          while index < bytes.count {
            let next = bytes[index]
            if next == UInt8(ascii: ",") || next == UInt8(ascii: "}") || next == UInt8(ascii: "]") { break }
            index += 1
          }
          return true
        }
        index += 1
      }
    } while depth > 0
    return true
  }
}
