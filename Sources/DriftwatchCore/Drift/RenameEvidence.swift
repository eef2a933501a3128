/// The kinds of evidence an inferred rename rests on. Each `column_renamed` carries the kinds it has; the
/// rules in `RenameRules` decide how high its confidence may go.
public enum EvidenceKind: String, Sendable, Hashable, Codable, CaseIterable {
  /// The names relate: same words, one name's words inside the other's, a typo, shared meaning words.
  case name
  /// The name follows the table's own rename (`customer_id` → `account_id` with `customers` → `accounts`).
  case tableRename = "table_rename"
  /// A keyed snapshot: the sampled keys hold equal values under the old and the new name.
  case dataKeys = "data_keys"
  /// A keyed snapshot: per key, the values were renamed one to one.
  case dataValues = "data_values"
  /// The same place in the table (between the same kept columns).
  case position
  /// The same declared and live type.
  case type
  /// Both are keys (tested unique before, a primary or unique key now).
  case key
}

/// What decides a rename's confidence: the evidence kinds, not the weights alone.
///
/// The weights below are provisional: they are to be calibrated on a benchmark of drift scenarios so that a
/// claim at confidence c is right about c of the time. The rules are not weights and do not move with it:
/// without name or data evidence a pairing is a hint, never a rename.
enum RenameRules {
  /// Weights of the schema-only score (name, type, place, key).
  static let nameWeight = 0.5
  static let typeWeight = 0.2
  static let placeWeight = 0.2
  static let keyWeight = 0.1

  /// A pairing with neither name nor data evidence stays below this: it is reported as a hint on a
  /// `column_missing` (with its `column_added`), not as a rename.
  static let hintCeiling = 0.45

  /// Name evidence at least this strong (same words, the table's rename, one name inside the other, a typo)
  /// carries a rename on its own when the pair is each other's only candidate.
  static let strongName = 0.75

  /// The confidence strong name evidence alone gives the only candidate: 0.5 plus a share of the name score
  /// (one name inside the other, 0.8 → 0.66; same words spelled differently, 0.95 → 0.69).
  static func soleCandidateFloor(nameScore: Double) -> Double { 0.5 + 0.2 * nameScore }

  /// Renames out of their place need the names to say it (`NameRelation` at least this) …
  static let outOfPlaceName = 0.75
  /// … and a score at least this.
  static let outOfPlaceScore = 0.6

  /// An out-of-place candidate with a rival scoring within this much of it is not taken.
  static let rivalMargin = 0.05

  /// Applies the ceiling rules to a schema-only score.
  static func capped(_ score: Double, kinds: Set<EvidenceKind>) -> Double {
    let hasName = kinds.contains(.name) || kinds.contains(.tableRename)
    let hasData = kinds.contains(.dataKeys) || kinds.contains(.dataValues)
    if !hasName && !hasData { return min(score, hintCeiling) }
    return min(score, 0.95)
  }

  /// The kinds in report order.
  static func ordered(_ kinds: Set<EvidenceKind>) -> [EvidenceKind] {
    EvidenceKind.allCases.filter(kinds.contains)
  }
}

/// One scored pairing of a declared column with a live one.
struct RenameClaim: Equatable {
  var score: Double
  var evidence: [String]
  var kinds: Set<EvidenceKind>
  /// The type is known on both sides and incompatible.
  var typeContradicts: Bool
  var nameScore: Double

  /// Neither name nor data says it: position and type only.
  var isHint: Bool { !kinds.contains(.name) && !kinds.contains(.tableRename) }
}
