/// Aligns the columns a source declares with the columns a live table has, inferring renames and splits.
///
/// Exact name matches are anchors (the longest run of them in the same order). Between two anchors is a
/// *slot*; the declared columns of a slot are aligned with the live columns of the same slot by dynamic
/// programming over their order, where each declared column is kept missing, renamed to one live column,
/// or split into a contiguous run of live columns. A pairing is taken only when its score beats a threshold.
/// Declared columns left over may still pair with a live column elsewhere when the names say so clearly.
struct ColumnAligner {
  struct Declared {
    var name: String
    var type: NormalizedType?
    var isKey: Bool
  }

  struct Live {
    var name: String
    var type: NormalizedType
    var isKey: Bool
  }

  enum Match: Equatable {
    case same(declared: Int, live: Int)
    case renamed(declared: Int, live: Int, confidence: Double, evidence: [String], kinds: [EvidenceKind])
    case split(declared: Int, live: [Int], confidence: Double, evidence: [String])
  }

  /// A pairing of a missing declared column with an added live one that only position and type suggest:
  /// not a rename (no name and no data evidence), but worth saying, and worth checking against a snapshot.
  struct Hint: Equatable {
    var declared: Int
    var live: Int
    var confidence: Double
    var evidence: [String]
    var kinds: [EvidenceKind]
  }

  struct Alignment: Equatable {
    var matches: [Match]
    var missing: [Int]
    var added: [Int]
    var hints: [Hint] = []
    /// 0…1: how much of the declared side the live side accounts for.
    var coverage: Double
  }

  var declared: [Declared]
  var live: [Live]
  var entities: EntityMap
  /// The declared side's order is the table's (declared, or a snapshot's): places between kept columns are
  /// evidence. When false (names the readers' SQL reads), only the names can pair columns.
  var ordered = true

  /// Gain below which a pairing is not taken.
  static let threshold = 0.5
  static let maxSplitParts = 8

  func align() -> Alignment {
    // Same name: the exact spelling first, then ignoring case (yml names `email`, Snowflake says `EMAIL`),
    // each live column taken once — a table with both "Email" and email keeps them apart.
    var liveExact: [String: Int] = [:]
    var liveFolded: [String: [Int]] = [:]
    for (index, column) in live.enumerated() {
      if liveExact[column.name] == nil { liveExact[column.name] = index }
      liveFolded[column.name.lowercased(), default: []].append(index)
    }
    var pairedLive = Set<Int>()
    var pairs: [Int: Int] = [:]
    for (index, column) in declared.enumerated() {
      if let liveIndex = liveExact[column.name], !pairedLive.contains(liveIndex) {
        pairs[index] = liveIndex
        pairedLive.insert(liveIndex)
      }
    }
    for (index, column) in declared.enumerated() where pairs[index] == nil {
      if let liveIndex = liveFolded[column.name.lowercased()]?.first(where: { !pairedLive.contains($0) }) {
        pairs[index] = liveIndex
        pairedLive.insert(liveIndex)
      }
    }
    let exact: [(declared: Int, live: Int)] = pairs.keys.sorted().compactMap { index in
      pairs[index].map { (declared: index, live: $0) }
    }
    let anchors = Self.longestIncreasing(exact)
    var matches: [Match] = exact.map { .same(declared: $0.declared, live: $0.live) }
    var usedDeclared = Set(exact.map(\.declared))
    var usedLive = Set(exact.map(\.live))

    // Slots between anchors.
    let anchorDeclared = anchors.map(\.declared)
    let anchorLive = anchors.map(\.live)
    func slot(of index: Int, in anchorIndices: [Int]) -> Int {
      var low = 0
      var high = anchorIndices.count
      while low < high {
        let mid = (low + high) / 2
        if anchorIndices[mid] < index { low = mid + 1 } else { high = mid }
      }
      return low
    }
    var declaredSlots = [[Int]](repeating: [], count: anchors.count + 1)
    var liveSlots = [[Int]](repeating: [], count: anchors.count + 1)
    for index in declared.indices where !usedDeclared.contains(index) {
      declaredSlots[slot(of: index, in: anchorDeclared)].append(index)
    }
    for index in live.indices where !usedLive.contains(index) {
      liveSlots[slot(of: index, in: anchorLive)].append(index)
    }
    for slotIndex in 0...anchors.count where ordered {
      let slotDeclared = declaredSlots[slotIndex]
      let slotLive = liveSlots[slotIndex]
      guard !slotDeclared.isEmpty, !slotLive.isEmpty else { continue }
      let neighbours = describeSlot(slotIndex, anchors: anchors)
      let lone = slotDeclared.count == 1 && slotLive.count == 1
      for match in alignSlot(slotDeclared, slotLive, place: neighbours, lone: lone) {
        matches.append(match)
        switch match {
        case .same(let d, let l), .renamed(let d, let l, _, _, _):
          usedDeclared.insert(d)
          usedLive.insert(l)
        case .split(let d, let parts, _, _):
          usedDeclared.insert(d)
          usedLive.formUnion(parts)
        }
      }
    }

    // Out-of-place splits: a gone column whose parts were added together elsewhere (ALTER TABLE … ADD
    // COLUMN puts them at the end of the table).
    for d in declared.indices where !usedDeclared.contains(d) {
      let leftLive = live.indices.filter { !usedLive.contains($0) }
      let gone = declared.indices.filter { !usedDeclared.contains($0) }
      guard let split = outOfPlaceSplit(d, leftLive: leftLive, gone: gone) else { continue }
      matches.append(split)
      usedDeclared.insert(d)
      if case .split(_, let parts, _, _) = split { usedLive.formUnion(parts) }
    }

    // Out-of-place renames: the names must say it on their own.
    var candidates: [(declared: Int, live: Int, claim: RenameClaim)] = []
    let leftDeclared = declared.indices.filter { !usedDeclared.contains($0) }
    let leftLive = live.indices.filter { !usedLive.contains($0) }
    let tokens = { (name: String) in NameTokens.tokens(name).map(NameTokens.canonical) }
    let liveTokens =
      leftDeclared.isEmpty
      ? [:] : Dictionary(uniqueKeysWithValues: leftLive.map { ($0, tokens(live[$0].name)) })
    for d in leftDeclared {
      let declaredTokens = tokens(declared[d].name)
      for l in leftLive {
        // The names decide first: most pairs fail there, and need no full score.
        let name = NameRelation.between(
          old: declared[d].name, new: live[l].name, oldTokens: declaredTokens, newTokens: liveTokens[l] ?? [],
          entities: entities)
        guard name.score >= RenameRules.outOfPlaceName else { continue }
        candidates.append((d, l, renameScore(d, l, place: nil, lone: false)))
      }
    }
    // Strong name evidence on a pair that is each other's only candidate carries the rename on its own.
    var perDeclared: [Int: Int] = [:]
    var perLive: [Int: Int] = [:]
    for candidate in candidates {
      perDeclared[candidate.declared, default: 0] += 1
      perLive[candidate.live, default: 0] += 1
    }
    for index in candidates.indices {
      let candidate = candidates[index]
      guard perDeclared[candidate.declared] == 1, perLive[candidate.live] == 1,
        !candidate.claim.typeContradicts, candidate.claim.nameScore >= RenameRules.strongName
      else { continue }
      let floor = RenameRules.soleCandidateFloor(nameScore: candidate.claim.nameScore)
      if candidate.claim.score < floor {
        candidates[index].claim.score = floor
        candidates[index].claim.evidence.append(
          "the only candidate: no other gone column's name relates to '\(live[candidate.live].name)', nor any other new column's to '\(declared[candidate.declared].name)'"
        )
      }
    }
    // A rival as strong (another new column the names relate as well, or another gone column): the names
    // alone cannot say which, so neither is taken (`label` → `stage_label` or `label_color`).
    func hasRival(_ candidate: (declared: Int, live: Int, claim: RenameClaim)) -> Bool {
      candidates.contains { other in
        (other.declared == candidate.declared) != (other.live == candidate.live)
          && other.claim.score >= candidate.claim.score - RenameRules.rivalMargin
      }
    }
    for candidate in candidates.sorted(by: { $0.claim.score > $1.claim.score })
    where candidate.claim.score >= RenameRules.outOfPlaceScore && !usedDeclared.contains(candidate.declared)
      && !usedLive.contains(candidate.live) && !hasRival(candidate)
    {
      matches.append(
        .renamed(
          declared: candidate.declared, live: candidate.live, confidence: candidate.claim.score,
          evidence: candidate.claim.evidence, kinds: RenameRules.ordered(candidate.claim.kinds)))
      usedDeclared.insert(candidate.declared)
      usedLive.insert(candidate.live)
    }

    // Hints: in a slot, the one declared column left and the one live column left, when position and type
    // (not the names) pair them.
    var hints: [Hint] = []
    for slotIndex in 0...anchors.count where ordered {
      let leftInSlot = declaredSlots[slotIndex].filter { !usedDeclared.contains($0) }
      let liveLeftInSlot = liveSlots[slotIndex].filter { !usedLive.contains($0) }
      guard leftInSlot.count == 1, liveLeftInSlot.count == 1, let d = leftInSlot.first,
        let l = liveLeftInSlot.first
      else { continue }
      let claim = renameScore(
        d, l, place: describeSlot(slotIndex, anchors: anchors),
        lone: declaredSlots[slotIndex].count == 1 && liveSlots[slotIndex].count == 1)
      guard claim.isHint, !claim.typeContradicts, claim.kinds.contains(.position) else { continue }
      hints.append(
        Hint(
          declared: d, live: l, confidence: claim.score, evidence: claim.evidence,
          kinds: RenameRules.ordered(claim.kinds)))
    }

    let missing = declared.indices.filter { !usedDeclared.contains($0) }
    let added = live.indices.filter { !usedLive.contains($0) }
    var accounted = 0.0
    for match in matches {
      switch match {
      case .same: accounted += 1
      case .renamed(_, _, let confidence, _, _), .split(_, _, let confidence, _): accounted += confidence
      }
    }
    let coverage = declared.isEmpty ? 0 : accounted / Double(declared.count)
    matches.sort { Self.declaredIndex($0) < Self.declaredIndex($1) }
    return Alignment(matches: matches, missing: missing, added: added, hints: hints, coverage: coverage)
  }

  private static func declaredIndex(_ match: Match) -> Int {
    switch match {
    case .same(let d, _), .renamed(let d, _, _, _, _), .split(let d, _, _, _): d
    }
  }

  private func describeSlot(_ slot: Int, anchors: [(declared: Int, live: Int)]) -> String {
    let before = slot > 0 ? live[anchors[slot - 1].live].name : nil
    let after = slot < anchors.count ? live[anchors[slot].live].name : nil
    switch (before, after) {
    case (let before?, let after?): return "between \(before) and \(after)"
    case (let before?, nil): return "after \(before)"
    case (nil, let after?): return "before \(after)"
    case (nil, nil): return "in the same place"
    }
  }

  /// Order-preserving alignment of one slot, maximizing the summed gain (score − threshold).
  private func alignSlot(_ ds: [Int], _ ls: [Int], place: String, lone: Bool) -> [Match] {
    let rows = ds.count
    let cols = ls.count
    enum Step { case none, skipDeclared, skipLive, rename, split(Int) }
    var best = [[Double]](repeating: [Double](repeating: -1, count: cols + 1), count: rows + 1)
    var step = [[Step]](repeating: [Step](repeating: .none, count: cols + 1), count: rows + 1)
    var payload: [Int: Match] = [:]
    best[0][0] = 0
    for i in 0...rows {
      for j in 0...cols {
        let here = best[i][j]
        guard here >= 0 else { continue }
        if i < rows, here > best[i + 1][j] {
          best[i + 1][j] = here
          step[i + 1][j] = .skipDeclared
        }
        if j < cols, here > best[i][j + 1] {
          best[i][j + 1] = here
          step[i][j + 1] = .skipLive
        }
        guard i < rows, j < cols else { continue }
        let claim = renameScore(ds[i], ls[j], place: place, lone: lone)
        let gain = claim.score - Self.threshold
        if gain > 0, here + gain > best[i + 1][j + 1] {
          best[i + 1][j + 1] = here + gain
          step[i + 1][j + 1] = .rename
          payload[(i + 1) * (cols + 1) + (j + 1)] = .renamed(
            declared: ds[i], live: ls[j], confidence: claim.score, evidence: claim.evidence,
            kinds: RenameRules.ordered(claim.kinds))
        }
        var parts = 2
        while parts <= Self.maxSplitParts, j + parts <= cols {
          let run = Array(ls[j..<(j + parts)])
          if let (score, evidence) = splitScore(ds[i], run, place: place) {
            let gain = score - Self.threshold
            if gain > 0, here + gain > best[i + 1][j + parts] {
              best[i + 1][j + parts] = here + gain
              step[i + 1][j + parts] = .split(parts)
              payload[(i + 1) * (cols + 1) + (j + parts)] = .split(
                declared: ds[i], live: run, confidence: min(score, 0.9), evidence: evidence)
            }
          }
          parts += 1
        }
      }
    }
    var result: [Match] = []
    var i = rows
    var j = cols
    while i > 0 || j > 0 {
      switch step[i][j] {
      case .skipDeclared: i -= 1
      case .skipLive: j -= 1
      case .rename:
        if let match = payload[i * (cols + 1) + j] { result.append(match) }
        i -= 1
        j -= 1
      case .split(let parts):
        if let match = payload[i * (cols + 1) + j] { result.append(match) }
        i -= 1
        j -= parts
      case .none:
        i = 0
        j = 0
      }
    }
    return result.reversed()
  }

  /// The schema-only claim that declared column `d` is live column `l`: its evidence, in words and kinds, and
  /// a confidence capped by `RenameRules` (no name evidence: at most a hint).
  func renameScore(_ d: Int, _ l: Int, place: String?, lone: Bool) -> RenameClaim {
    let old = declared[d]
    let new = live[l]
    var evidence: [String] = []
    var kinds: Set<EvidenceKind> = []
    let name = NameRelation.between(old: old.name, new: new.name, entities: entities)
    if let reason = name.reason { evidence.append(reason) }
    if name.isEvidence { kinds.insert(name.followsTableRename ? .tableRename : .name) }
    var typeScore = 0.6
    var typeContradicts = false
    if let oldType = old.type {
      if oldType.matches(new.type) {
        typeScore = 1
        kinds.insert(.type)
        evidence.append("same type (\(new.type))")
      } else if oldType.family == new.type.family, oldType.family != .other {
        typeScore = 0.7
        evidence.append("type changed within \(oldType.family.rawValue)s (\(oldType) → \(new.type))")
      } else {
        typeScore = 0
        typeContradicts = true
        evidence.append("type changed from \(oldType) to \(new.type)")
      }
    }
    // Neither a key: nothing for or against (calibrated on scripts/drift_benchmark.py); one a key and the
    // other not: against.
    var keyScore = 1.0
    if old.isKey && new.isKey {
      keyScore = 1
      kinds.insert(.key)
      evidence.append("both are keys (\(old.name) is tested unique, \(new.name) is a primary or unique key)")
    } else if old.isKey != new.isKey {
      keyScore = 0.4
    }
    var placeScore = 0.0
    if let place {
      placeScore = 1
      kinds.insert(.position)
      evidence.append(
        lone ? "the only column gone and the only one new \(place)" : "same place in the table (\(place))")
    }
    let score =
      RenameRules.nameWeight * name.score + RenameRules.typeWeight * typeScore + RenameRules.placeWeight
      * placeScore + RenameRules.keyWeight * keyScore
    return RenameClaim(
      score: RenameRules.capped(score, kinds: kinds), evidence: evidence, kinds: kinds,
      typeContradicts: typeContradicts, nameScore: name.score)
  }

  /// Words that name the parts of a compound value: `address` splits into `street`, `city`, …
  static let components: [String: Set<String>] = [
    "address": [
      "street", "city", "town", "state", "province", "region", "postal", "postcode", "country", "line",
      "line1",
      "line2", "address1", "address2", "house", "unit", "apartment", "suite", "county", "district",
      "building", "locality", "neighborhood",
    ],
    "location": ["lat", "latitude", "lng", "lon", "long", "longitude", "city", "country", "region"],
    "coordinate": ["lat", "latitude", "lng", "lon", "long", "longitude"],
    "geo": ["lat", "latitude", "lng", "lon", "long", "longitude"],
    "name": ["first", "last", "middle", "given", "family", "surname", "forename", "title", "suffix"],
    "phone": ["country", "area", "code", "number", "extension", "ext"],
    "timestamp": ["date", "time", "hour", "minute", "timezone", "tz", "zone"],
    "datetime": ["date", "time", "timezone", "tz", "zone"],
    "period": ["start", "end", "from", "to"],
    "range": ["start", "end", "from", "to", "min", "max", "low", "high"],
    "price": ["amount", "currency", "value", "cent"],
    "money": ["amount", "currency", "value", "cent"],
  ]

  func splitScore(_ d: Int, _ parts: [Int], place: String) -> (Double, [String])? {
    let old = declared[d]
    let oldTokens = Set(entities.apply(NameTokens.tokens(old.name).map(NameTokens.canonical)).tokens)
    let lexicon = oldTokens.reduce(into: Set<String>()) { $0.formUnion(Self.components[$1] ?? []) }
    var related: [String] = []
    for part in parts {
      let tokens = Set(NameTokens.tokens(live[part].name).map(NameTokens.canonical))
      if !tokens.isDisjoint(with: oldTokens) || !tokens.isDisjoint(with: lexicon) {
        related.append(live[part].name)
      }
    }
    guard related.count >= 2 else { return nil }
    let fraction = Double(related.count) / Double(parts.count)
    guard fraction >= 0.5 else { return nil }
    let names = parts.map { live[$0].name }
    var evidence: [String] = []
    if related.count == parts.count {
      evidence.append("every new column names a part of '\(old.name)' (\(names.joined(separator: ", ")))")
    } else {
      evidence.append(
        "\(related.count) of \(parts.count) new columns name a part of '\(old.name)' (\(related.joined(separator: ", ")))"
      )
    }
    var typeScore = 0.6
    if let oldType = old.type {
      let sameFamily = parts.filter { live[$0].type.family == oldType.family }.count
      typeScore = Double(sameFamily) / Double(parts.count)
      if sameFamily == parts.count {
        evidence.append("all parts are \(oldType.family.rawValue)s like '\(old.name)'")
      }
    }
    evidence.append("\(parts.count) adjacent columns stand where '\(old.name)' stood (\(place))")
    evidence.append("inferred from names and positions; a data sample would prove the template")
    let score = 0.55 * fraction + 0.2 * typeScore + 0.25
    return (score, evidence)
  }

  /// The columns of `leftLive` that name a part of declared column `d` (its own words, or the words of its
  /// parts: `first_name` of `name`).
  func partsNamed(_ d: Int, among leftLive: [Int]) -> Set<Int> {
    let oldTokens = Set(entities.apply(NameTokens.tokens(declared[d].name).map(NameTokens.canonical)).tokens)
    let lexicon = oldTokens.reduce(into: Set<String>()) { $0.formUnion(Self.components[$1] ?? []) }
    guard !lexicon.isEmpty else { return [] }
    return Set(
      leftLive.filter { part in
        let tokens = Set(NameTokens.tokens(live[part].name).map(NameTokens.canonical))
        // A part names the old column's words and one word of its parts, or at least a part word.
        return !tokens.isDisjoint(with: lexicon) && !tokens.isSubset(of: oldTokens)
      })
  }

  /// A split whose parts stand apart from where the old column stood: adjacent new columns, every one
  /// naming a part of it, no other gone column's name closer to any of them. Without the place as evidence
  /// it is less sure than a split in place.
  func outOfPlaceSplit(_ d: Int, leftLive: [Int], gone: [Int]) -> Match? {
    let named = partsNamed(d, among: leftLive)
    guard named.count >= 2 else { return nil }
    // The longest run of adjacent named columns.
    var best: [Int] = []
    var run: [Int] = []
    for index in live.indices {
      if named.contains(index) {
        run.append(index)
      } else {
        run = []
      }
      if run.count > best.count { best = run }
    }
    guard best.count >= 2, best.count <= Self.maxSplitParts else { return nil }
    // A part spelled as another gone column (`firstName` for a gone `first_name`) is that column renamed.
    for other in gone where other != d {
      let otherTokens = NameTokens.tokens(declared[other].name).map(NameTokens.canonical)
      if best.contains(where: { NameTokens.tokens(live[$0].name).map(NameTokens.canonical) == otherTokens }) {
        return nil
      }
    }
    let old = declared[d]
    let names = best.map { live[$0].name }
    var evidence = ["every new column names a part of '\(old.name)' (\(names.joined(separator: ", ")))"]
    var typeScore = 0.6
    if let oldType = old.type {
      let sameFamily = best.filter { live[$0].type.family == oldType.family }.count
      typeScore = Double(sameFamily) / Double(best.count)
      if sameFamily == best.count {
        evidence.append("all parts are \(oldType.family.rawValue)s like '\(old.name)'")
      }
    }
    let atEnd = best.last == live.indices.last
    evidence.append(
      atEnd
        ? "added together at the end of the table (where ALTER TABLE … ADD COLUMN puts them), not where '\(old.name)' stood"
        : "\(best.count) adjacent columns, not where '\(old.name)' stood")
    evidence.append("inferred from names; a data sample would prove the template")
    // Calibrated on the drift benchmark: such splits were right every time at 0.8 (docs/benchmarks.md).
    let score = min(0.9, 0.55 + 0.2 * typeScore + 0.15)
    return .split(declared: d, live: best, confidence: score, evidence: evidence)
  }

  /// The longest subsequence of pairs (ordered by declared index) whose live indices increase.
  static func longestIncreasing(_ pairs: [(declared: Int, live: Int)]) -> [(declared: Int, live: Int)] {
    guard !pairs.isEmpty else { return [] }
    var tails: [Int] = []  // index into pairs
    var previous = [Int](repeating: -1, count: pairs.count)
    for (index, pair) in pairs.enumerated() {
      var low = 0
      var high = tails.count
      while low < high {
        let mid = (low + high) / 2
        if pairs[tails[mid]].live < pair.live { low = mid + 1 } else { high = mid }
      }
      if low > 0 { previous[index] = tails[low - 1] }
      if low == tails.count { tails.append(index) } else { tails[low] = index }
    }
    var result: [(declared: Int, live: Int)] = []
    var cursor = tails.last ?? -1
    while cursor >= 0 {
      result.append(pairs[cursor])
      cursor = previous[cursor]
    }
    return result.reversed()
  }
}
