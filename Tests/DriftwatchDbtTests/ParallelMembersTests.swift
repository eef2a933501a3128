import Foundation
import Testing

@testable import DriftwatchDbt

/// `ParallelMembers` guesses where members start; whatever it guesses, the answer must be a plain reading's.
@Suite struct ParallelMembersTests {
  /// An object whose members hold the traps a guess can fall into: nested objects keyed like unique ids,
  /// strings that spell a member start (escaped quotes), keys with escapes, and members of every size.
  static func trapObject(members: Int, compact: Bool) -> String {
    let comma = compact ? "," : ", "
    let colon = compact ? ":" : ": "
    var parts: [String] = []
    for index in 0..<members {
      var body: [String] = []
      body.append("\"name\"\(colon)\"m\(index)\"")
      switch index % 5 {
      case 0:
        // A nested object with a unique-id-shaped key after another object: a guess lands here.
        body.append(
          "\"meta\"\(colon){\"a\"\(colon){\"x\"\(colon)1}\(comma)\"model.p.decoy\(index)\"\(colon){\"y\"\(colon)[]}}"
        )
      case 1:
        // A string that spells a member start, with escaped quotes.
        body.append("\"raw_code\"\(colon)\"select '}, \\\"model.p.fake\\\": {' -- \\\\\"")
      case 2:
        // A column named like an id.
        body.append(
          "\"columns\"\(colon){\"c\"\(colon){}\(comma)\"test.p.c.d\"\(colon){\"name\"\(colon)\"x\"}}")
      case 3:
        body.append("\"raw_code\"\(colon)\"\(String(repeating: "x", count: (index * 37) % 700))\"")
      default:
        body.append("\"tags\"\(colon)[\"a\"\(comma)\"b\"]")
      }
      let key = index % 7 == 6 ? "model.p.m\\u0041\(index)" : "model.p.m\(index)"
      parts.append("\"\(key)\"\(colon){\(body.joined(separator: comma))}")
    }
    return "{" + parts.joined(separator: comma) + "}"
  }

  static func readAll(_ text: String, threads: Int, chunkBytes: Int?) throws -> ([String], Int) {
    var bytes = Array(text.utf8)
    bytes += Array(", \"after\": 1".utf8)
    return try bytes.withUnsafeBufferPointer { buffer in
      var cursor = JSONCursor(bytes: buffer)
      let batches = try ParallelMembers.read(
        &cursor, threads: threads, chunkBytes: chunkBytes, batch: { [String]() }
      ) { (cursor, key, batch) throws(JSONCursor.Failure) in
        var name = ""
        try cursor.forEachMember { (cursor, field) throws(JSONCursor.Failure) in
          if field == "name" { name = try cursor.readString() } else { try cursor.skipValue() }
        }
        batch.append("\(key.string)=\(name)")
      }
      return (batches.flatMap { $0 }, cursor.index)
    }
  }

  @Test(arguments: [false, true])
  func everyChunkSizeGivesThePlainReading(compact: Bool) throws {
    let text = Self.trapObject(members: 400, compact: compact)
    let (plain, plainEnd) = try Self.readAll(text, threads: 1, chunkBytes: nil)
    #expect(plain.count == 400)
    #expect(plain[6] == "model.p.mA6=m6")
    #expect(plainEnd == text.utf8.count)
    for chunk in [1, 7, 64, 333, 1_000, 5_000, 100_000] {
      for threads in [2, 3, 4] {
        let (values, end) = try Self.readAll(text, threads: threads, chunkBytes: chunk)
        #expect(values == plain, "chunk \(chunk), \(threads) threads")
        #expect(end == plainEnd, "chunk \(chunk), \(threads) threads")
      }
    }
  }

  @Test func emptyAndTinyObjects() throws {
    #expect(try Self.readAll("{}", threads: 2, chunkBytes: 1).0 == [])
    #expect(try Self.readAll("{ }", threads: 2, chunkBytes: 1).1 == 3)
    #expect(try Self.readAll("{\"a.b.c\": {\"name\": \"x\"}}", threads: 2, chunkBytes: 1).0 == ["a.b.c=x"])
  }

  @Test func theFirstErrorInFileOrderWins() throws {
    // Members 150 and 302 are broken (a number where an object belongs); every split reports member 150.
    var text = Self.trapObject(members: 400, compact: false)
    for index in [302, 150] {
      let key = "\"model.p.m\(index)\": {"
      let range = try #require(text.range(of: key))
      text.replaceSubrange(range, with: "\"model.p.m\(index)\": 12, \"model.p.broken\(index)\": {")
    }
    for chunk in [1, 64, 1_000, 100_000] {
      do {
        _ = try Self.readAll(text, threads: 2, chunkBytes: chunk)
        Issue.record("expected an error")
      } catch let error as JSONCursor.Failure {
        #expect(error.description == "unexpected value at model.p.m150", "chunk \(chunk)")
      }
    }
  }

  @Test func aCutOffObjectIsInvalidJSON() throws {
    let text = Self.trapObject(members: 400, compact: false)
    func failure(_ cut: String, chunk: Int?) -> String? {
      var bytes = Array(cut.utf8)
      return bytes.withUnsafeMutableBufferPointer { buffer in
        var cursor = JSONCursor(bytes: UnsafeBufferPointer(buffer))
        do throws(JSONCursor.Failure) {
          _ = try ParallelMembers.read(&cursor, threads: 2, chunkBytes: chunk, batch: { 0 }) {
            (cursor, _, count) throws(JSONCursor.Failure) in
            try cursor.skipValue()
            count += 1
          }
          return nil
        } catch {
          return error.description
        }
      }
    }
    for fraction in [0.31, 0.5, 0.67, 0.999] {
      let cut = String(decoding: text.utf8.prefix(Int(Double(text.utf8.count) * fraction)), as: UTF8.self)
      let plain = failure(cut, chunk: nil)
      #expect(plain?.hasPrefix("invalid json near") == true, "\(String(describing: plain))")
      for chunk in [1, 64, 1_000] {
        #expect(failure(cut, chunk: chunk) == plain, "cut at \(fraction), chunk \(chunk)")
      }
    }
  }
}
