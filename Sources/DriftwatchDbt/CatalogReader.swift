import DriftwatchCore
import Foundation

/// Reads dbt's `target/catalog.json` (written by `dbt docs generate`) as an offline warehouse: every
/// relation of its `nodes` and `sources` sections, with columns in the catalog's `index` order and types
/// as the warehouse reported them.
///
/// dbt's catalog only lists relations the manifest knows about: a raw table renamed outside dbt (say
/// `users` → `accounts`) shows up as `users` missing, never as `accounts` present, so through a catalog a
/// rename can only be seen as a missing table. Connect to the warehouse to see what replaced it.
/// Keys and nullability are not in the catalog: columns come back as nullable non-keys.
public enum CatalogReader {
  public static func read(path: String, dialect: SQLDialect = .generic) throws -> InMemoryWarehouse {
    guard let data = FileManager.default.contents(atPath: path) else {
      let problem = FileReading.openProblem(path)
      guard problem.isMissing else {
        throw DbtError(
          "cannot read the catalog (\(problem.reason)); make it readable by the user running driftwatch",
          file: path)
      }
      throw DbtError(
        "no catalog at \(path); run `dbt docs generate` in the project to write target/catalog.json, or pass "
          + "its path")
    }
    let catalog: SlimCatalog
    do {
      catalog = try JSONDecoder().decode(SlimCatalog.self, from: data)
    } catch let error as DecodingError {
      throw DbtError(
        "not a dbt catalog (\(ManifestReader.describe(error))); regenerate it with `dbt docs generate`",
        file: path)
    }
    var seen: Set<String> = []
    var tables: [LiveTable] = []
    let entries =
      (catalog.nodes ?? [:]).sorted { $0.key < $1.key } + (catalog.sources ?? [:]).sorted { $0.key < $1.key }
    for (_, entry) in entries {
      guard let schema = entry.metadata.schema, let name = entry.metadata.name else { continue }
      let reference = SchemaRef(database: entry.metadata.database, schema: schema)
      let key = "\(reference.description.lowercased()).\(name.lowercased())"
      guard seen.insert(key).inserted else { continue }
      let columns = (entry.columns ?? [:]).sorted { lhs, rhs in
        (lhs.value.index ?? Int.max, lhs.key) < (rhs.value.index ?? Int.max, rhs.key)
      }
      let live = columns.enumerated().map { offset, column in
        LiveColumn(
          name: column.value.name ?? column.key, dataType: column.value.type ?? "",
          position: column.value.index ?? offset + 1)
      }
      let kind: RelationKind = (entry.metadata.type ?? "").lowercased().contains("view") ? .view : .table
      tables.append(LiveTable(schema: reference, name: name, kind: kind, columns: live))
    }
    return InMemoryWarehouse(displayName: "dbt catalog \(path)", dialect: dialect, tables: tables)
  }
}

private struct SlimCatalog: Decodable {
  struct Metadata: Decodable {
    var type: String?
    var schema: String?
    var name: String?
    var database: String?
  }

  struct Column: Decodable {
    var type: String?
    var index: Int?
    var name: String?

    enum CodingKeys: String, CodingKey {
      case type
      case index
      case name
    }

    init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      type = try container.decodeIfPresent(String.self, forKey: .type)
      name = try container.decodeIfPresent(String.self, forKey: .name)
      if let number = try? container.decodeIfPresent(Int.self, forKey: .index) {
        index = number
      } else if let number = try? container.decodeIfPresent(Double.self, forKey: .index) {
        index = Int(number)
      }
    }
  }

  struct Entry: Decodable {
    var metadata: Metadata
    var columns: [String: Column]?
  }

  var nodes: [String: Entry]?
  var sources: [String: Entry]?
}
