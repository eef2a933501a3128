import Foundation
import Testing

@testable import DriftwatchDbt

/// Reading stays linear in the number of models that have a yml entry: resolving their configs once copied the
/// whole candidate list for every entry (20,000 models: 5 minutes of a 5-second debug read).
@Suite struct ReaderScalingTests {
  private func project(models count: Int) throws -> TemporaryProject {
    var files = ["dbt_project.yml": TemporaryProject.minimalProjectFile]
    var yml = "version: 2\nmodels:\n"
    for index in 0..<count {
      files["models/m\(index).sql"] = "select \(index) as id\n"
      yml += "  - name: m\(index)\n    config:\n      tags: [t]\n"
    }
    files["models/schema.yml"] = yml
    return try TemporaryProject(files)
  }

  /// One read, in seconds.
  private func readTime(_ project: TemporaryProject) throws -> Double {
    let clock = ContinuousClock()
    let elapsed = try clock.measure {
      let graph = try DbtProjectReader.read(
        projectDirectory: project.directory, options: DbtReadOptions(environment: [:]))
      #expect(graph.nodes.count > 0)
    }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  }

  @Test func eightTimesTheModelsTakesAboutEightTimesAsLong() throws {
    let small = try project(models: 500)
    defer { small.remove() }
    let large = try project(models: 4000)
    defer { large.remove() }
    // The best of three reads each, taken in turns: the suite runs beside other tests, and a burst of load
    // during one of the two sizes only would make the ratio say nothing about the reader.
    var bestSmall = Double.infinity
    var bestLarge = Double.infinity
    for _ in 0..<3 {
      bestSmall = min(bestSmall, try readTime(small))
      bestLarge = min(bestLarge, try readTime(large))
    }
    let ratio = bestLarge / bestSmall
    // Linear is 8 (less, with fixed costs); the quadratic copy made it about 17.
    #expect(ratio < 12, "reading 4,000 models took \(ratio) times as long as 500")
  }
}
