import DriftwatchCore
import Foundation

/// A snapshot as rows: its metadata, then numbered parts (the schema, the profiles of each table, each
/// sample), each a JSON document. Both stores write them all in one transaction.
struct SnapshotRows {
  struct Part {
    var number: Int
    var kind: String
    var payload: String
  }

  var metadata: String
  var parts: [Part]

  static let schemaVersion = 1

  static func encode(_ snapshot: Snapshot) throws -> SnapshotRows {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    func json<T: Encodable>(_ value: T) throws -> String {
      String(decoding: try encoder.encode(value), as: UTF8.self)
    }
    var parts = [Part(number: 0, kind: "schema", payload: try json(snapshot.schema))]
    var byTable: [String: [ColumnProfile]] = [:]
    var order: [String] = []
    for profile in snapshot.profiles {
      let table = "\(profile.column.schema).\(profile.column.table)"
      if byTable[table] == nil { order.append(table) }
      byTable[table, default: []].append(profile)
    }
    for table in order {
      parts.append(Part(number: parts.count, kind: "profiles", payload: try json(byTable[table] ?? [])))
    }
    for sample in snapshot.samples {
      parts.append(Part(number: parts.count, kind: "sample", payload: try json(sample)))
    }
    return SnapshotRows(metadata: try json(snapshot.metadata), parts: parts)
  }

  static func decode(metadata: String, parts: [(kind: String, payload: String)], store: String) throws
    -> Snapshot
  {
    let decoder = JSONDecoder()
    do {
      let meta = try decoder.decode(SnapshotMetadata.self, from: Data(metadata.utf8))
      var schema = LiveSchema(inspected: [], tables: [])
      var profiles: [ColumnProfile] = []
      var samples: [KeyedSample] = []
      for part in parts {
        let data = Data(part.payload.utf8)
        switch part.kind {
        case "schema": schema = try decoder.decode(LiveSchema.self, from: data)
        case "profiles": profiles += try decoder.decode([ColumnProfile].self, from: data)
        case "sample": samples.append(try decoder.decode(KeyedSample.self, from: data))
        default: continue
        }
      }
      var snapshot = Snapshot(metadata: meta, schema: schema, profiles: profiles, samples: samples)
      snapshot.metadata = meta
      return snapshot
    } catch {
      throw StateError(
        "snapshot in \(store) cannot be read (\(String(describing: error).lowercased().prefix(120))); take a new one with driftwatch snapshot"
      )
    }
  }

  static func decodeMetadata(_ text: String, store: String) throws -> SnapshotMetadata {
    do {
      return try JSONDecoder().decode(SnapshotMetadata.self, from: Data(text.utf8))
    } catch {
      throw StateError("a snapshot's metadata in \(store) cannot be read; the state store may be damaged")
    }
  }
}

/// A state store that cannot be opened, read or written.
public struct StateError: UserFacingError, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}
