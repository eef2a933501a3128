import DriftwatchCore

/// A decisions file (docs/fix.md) from answers: what `driftwatch mcp`'s `answer` tool writes, read back by
/// `DecisionsReader`. Change ids sorted, fields in a fixed order, every value double-quoted (values come from
/// the warehouse: hostile input).
public enum DecisionsRenderer {
  public static func render(_ decisions: Decisions) -> String {
    var out = ["version: 1"]
    guard !decisions.byChange.isEmpty else { return out.joined(separator: "\n") + "\ndecisions: {}\n" }
    out.append("decisions:")
    for id in decisions.byChange.keys.sorted() {
      guard let decision = decisions.byChange[id] else { continue }
      let q = YAMLEscape.doubleQuoted
      out.append("  \(q(id)):")
      var fields = 0
      if let accept = decision.accept {
        out.append("    accept: \(accept)")
        fields += 1
      }
      if let mapping = decision.mapping {
        if mapping.isEmpty {
          out.append("    mapping: {}")
        } else {
          out.append("    mapping:")
          for old in mapping.keys.sorted() { out.append("      \(q(old)): \(q(mapping[old] ?? ""))") }
        }
        fields += 1
      }
      if let template = decision.template {
        out.append("    template: \(q(template))")
        fields += 1
      }
      if let keep = decision.keepOldSource {
        out.append("    keep_old_source: \(keep)")
        fields += 1
      }
      if fields == 0 { out[out.count - 1] += " {}" }
    }
    return out.joined(separator: "\n") + "\n"
  }
}
