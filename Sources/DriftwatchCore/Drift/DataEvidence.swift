/// Evidence from the data: a snapshot's keyed samples joined to the live tables on the key (also across
/// a table rename), and its profiles compared with live ones. Three pure steps around the warehouse:
/// `evidenceRequests` says which live rows to read, the adapter reads them with bound keys,
/// `applyingEvidence` raises or lowers confidence, adds evidence lines and fills `mapping` and `template`.
extension DriftEngine {
  /// Share of sampled rows that must agree for the data to confirm a rename, a split or a remap.
  public static let evidenceThreshold = 0.95

  /// The live rows one keyed sample must be joined to.
  public struct EvidenceRequest: Sendable, Hashable {
    /// The snapshot's sample (old names, old values).
    public var sample: KeyedSample
    /// Where the sampled table is now (after any rename).
    public var table: TableRef
    /// The live key column (the sample's key, renamed or not).
    public var key: String
    /// Live columns to read, in order.
    public var columns: [String]
    /// Declared (old) column → the live column(s) it is now: one for a kept or renamed column, several for
    /// a split; absent when it is gone.
    public var targets: [String: [String]]

    public var keys: [String] { sample.rows.map(\.key) }
  }

  public func evidenceRequests(changes: [DriftChange], live: LiveSchema, snapshot: Snapshot)
    -> [EvidenceRequest]
  {
    var requests: [EvidenceRequest] = []
    for sample in snapshot.samples {
      guard let source = project.sources[sample.sourceID],
        let table = liveTable(for: source, changes: changes, live: live)
      else { continue }
      let sourceChanges = changes.filter { $0.sourceID == source.uniqueID && !$0.kind.isTableLevel }
      var targets: [String: [String]] = [:]
      for old in [sample.key] + sample.columns {
        let moves = sourceChanges.filter {
          $0.from?.lowercased() == old.lowercased()
            && [.columnRenamed, .columnSplit, .columnMissing].contains($0.kind)
        }
        if let move = moves.first {
          if move.kind != .columnMissing, let to = move.to {
            targets[old] = to.names
          } else if let candidate = move.possibleRename {
            // A hint from position and type: the data decides.
            targets[old] = [candidate]
          }
        } else if let same = table.columns.first(where: { $0.name.lowercased() == old.lowercased() }) {
          targets[old] = [same.name]
        }
      }
      guard let keyTarget = targets[sample.key], keyTarget.count == 1, let key = keyTarget.first else {
        continue
      }
      var columns: [String] = []
      for old in sample.columns {
        for name in targets[old] ?? [] where !columns.contains(name) { columns.append(name) }
      }
      requests.append(
        EvidenceRequest(
          sample: sample, table: TableRef(schema: table.schema, name: table.name), key: key, columns: columns,
          targets: targets))
    }
    return requests
  }

  /// Where a declared source's table is now: the renamed table, else the table of the same name.
  func liveTable(for source: SourceTable, changes: [DriftChange], live: LiveSchema) -> LiveTable? {
    let sourceChanges = changes.filter { $0.sourceID == source.uniqueID }
    if sourceChanges.contains(where: { $0.kind == .tableMissing }) { return nil }
    if let rename = sourceChanges.first(where: { $0.kind == .tableRenamed }), let relation = rename.relation {
      return live.tables.first { $0.qualifiedName == relation }
    }
    return live.resolve(schema: source.schemaRef, table: source.identifier)
  }

  /// Live columns whose profile the distribution fallback needs: remapped columns no keyed sample covers.
  public func distributionProbes(changes: [DriftChange], requests: [EvidenceRequest]) -> [ColumnRef] {
    let keyed = Set(requests.map(\.sample.sourceID))
    return changes.compactMap { change in
      let column = change.kind == .columnRenamed ? change.to?.names.first : change.column
      // A remap is profiled even when its table has a keyed sample: the frequency ranks are the fallback
      // when the sample cannot map it (the column not sampled, no key joined).
      guard change.kind == .valuesRemapped || change.kind == .columnRenamed, let sourceID = change.sourceID,
        change.kind == .valuesRemapped || !keyed.contains(sourceID), let relation = change.relation,
        let column,
        let source = project.sources[sourceID]
      else { return nil }
      let table =
        relation.hasPrefix(source.schemaRef.description + ".")
        ? String(relation.dropFirst(source.schemaRef.description.count + 1)) : relation
      return ColumnRef(schema: source.schemaRef, table: table, column: column)
    }
  }

  /// The changes with the data's evidence applied. `fetched[i]` are the live rows for `requests[i]`
  /// (nil when they could not be read); `liveProfiles` are the profiles of `distributionProbes` and
  /// `profileDriftProbes`.
  public func applyingEvidence(
    to changes: [DriftChange], requests: [EvidenceRequest], fetched: [[String: [String?]]?],
    snapshot: Snapshot, liveProfiles: [ColumnProfile] = []
  ) -> [DriftChange] {
    var result = changes
    var added: [DriftChange] = []
    for (request, rows) in zip(requests, fetched) {
      guard let rows else { continue }
      added += applyKeyed(request, rows: rows, snapshot: snapshot, to: &result)
    }
    result = added.isEmpty ? result : Self.merge(result, added)
    applyDistributions(snapshot: snapshot, liveProfiles: liveProfiles, requests: requests, to: &result)
    // Behind an unchanged schema: the columns that kept their name, against their baseline profiles.
    let drift = profileDrift(
      changes: result, snapshot: snapshot, liveProfiles: liveProfiles, requests: requests, fetched: fetched)
    return drift.isEmpty ? result : Self.merge(result, drift)
  }

  // MARK: - keyed evidence

  private func applyKeyed(
    _ request: EvidenceRequest, rows live: [String: [String?]], snapshot: Snapshot,
    to changes: inout [DriftChange]
  ) -> [DriftChange] {
    let sample = request.sample
    guard let source = project.sources[sample.sourceID] else { return [] }
    let sampled = sample.rows.count
    let joined = sample.rows.filter { live[$0.key] != nil }
    let found = joined.count
    let liveIndex = Dictionary(
      request.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    let keyLine =
      "\(found)/\(sampled) sampled keys of \(sample.table.name).\(sample.key) found as \(request.table.name).\(request.key)"
    let keyRatio = sampled == 0 ? 0 : Double(found) / Double(sampled)

    func update(_ index: Int, _ body: (inout DriftChange) -> Void) {
      body(&changes[index])
    }
    func adjust(_ change: inout DriftChange, confirmed: Bool?, line: String, low: Double = 0.4) {
      change.evidence.append(line)
      if confirmed == true {
        change.confidence = max(change.confidence, 0.99)
      } else if confirmed == false {
        change.confidence = min(change.confidence, low)
      }
    }

    // The table: key overlap.
    if let index = changes.firstIndex(where: { $0.sourceID == source.uniqueID && $0.kind == .tableRenamed }) {
      update(index) {
        adjust(
          &$0, confirmed: keyRatio >= Self.evidenceThreshold ? true : (keyRatio < 0.5 ? false : nil),
          line: keyLine)
      }
    }
    guard found > 0 else { return [] }

    var added: [DriftChange] = []
    for (position, old) in ([sample.key] + sample.columns).enumerated() {
      guard let targets = request.targets[old], !targets.isEmpty else { continue }
      let moveIndex = changes.firstIndex {
        $0.sourceID == source.uniqueID && $0.from?.lowercased() == old.lowercased()
          && ($0.kind == .columnRenamed || $0.kind == .columnSplit
            || ($0.kind == .columnMissing && $0.possibleRename != nil))
      }
      guard let moveIndex else {
        // A column that kept its name: a remap of its values is proven per key.
        if position > 0, targets.count == 1 {
          let pairs: [(old: String?, new: String?)] = joined.compactMap { row in
            guard let values = live[row.key] else { return nil }
            return (row.values[position - 1], liveIndex[targets[0]].flatMap { values[$0] } ?? nil)
          }
          keptColumnRemap(
            pairs, old: old, new: targets[0], sample: sample, snapshot: snapshot, changes: &changes)
        }
        continue
      }
      if changes[moveIndex].kind == .columnMissing {
        // Position and type only: the data proves the rename, or refutes it.
        let candidate = targets[0]
        let line: String
        let proven: Bool
        if position == 0 {
          line = keyLine
          proven = keyRatio >= Self.evidenceThreshold
        } else {
          let pairs: [(old: String?, new: String?)] = joined.compactMap { row in
            guard let values = live[row.key] else { return nil }
            return (row.values[position - 1], liveIndex[candidate].flatMap { values[$0] } ?? nil)
          }
          let equal = pairs.filter { $0.old == (sample.hashed ? $0.new.map(SampleHash.of) : $0.new) }.count
          proven = Double(equal) >= Self.evidenceThreshold * Double(max(pairs.count, 1)) && !pairs.isEmpty
          line = "\(old) = \(candidate) on \(equal)/\(pairs.count) sampled keys"
        }
        if proven {
          let renamed = Self.confirmedHint(changes[moveIndex], to: candidate, line: line)
          changes[moveIndex] = renamed
          changes.removeAll {
            $0.kind == .columnAdded && $0.sourceID == source.uniqueID && $0.to == .one(candidate)
              && $0.relation == renamed.relation
          }
        } else {
          changes[moveIndex].evidence.append(
            "the data refutes a rename to \(candidate): \(line)")
          changes[moveIndex].possibleRename = nil
        }
        continue
      }
      if position == 0 {
        // The key itself: joining on it is the evidence.
        update(moveIndex) {
          adjust(
            &$0, confirmed: keyRatio >= Self.evidenceThreshold ? true : (keyRatio < 0.5 ? false : nil),
            line: keyLine)
        }
        continue
      }
      let pairs: [(key: String, old: String?, new: [String?])] = joined.compactMap { row in
        guard let values = live[row.key] else { return nil }
        let new = targets.map { name in liveIndex[name].flatMap { values[$0] } ?? nil }
        return (row.key, row.values[position - 1], new)
      }
      if changes[moveIndex].kind == .columnSplit {
        splitEvidence(pairs, targets: targets, hashed: sample.hashed, change: &changes[moveIndex])
      } else {
        var rename = changes[moveIndex]
        let outcome = renameEvidence(
          pairs.map { ($0.old, $0.new.first ?? nil) }, old: old, new: targets[0], sample: sample,
          snapshot: snapshot, rename: &rename, changes: &changes)
        switch outcome {
        case .kept(let remap):
          changes[moveIndex] = rename
          if let remap { added.append(remap) }
        case .refuted(let line):
          let (missing, newColumn) = Self.refutedRename(rename, line: line)
          changes[moveIndex] = missing
          added.append(newColumn)
        }
      }
    }
    return added
  }

  /// A kept column's values per key: equal (rename confirmed), a consistent one-to-one table of values
  /// (a remap), the same values in another order (rejected), or simply different (not confident).
  /// `.kept` with a new `values_remapped` change when the data proves one and none was reported yet;
  /// `.refuted` when the data shows the new column is not the old one.
  private func renameEvidence(
    _ pairs: [(old: String?, new: String?)], old: String, new: String, sample: KeyedSample,
    snapshot: Snapshot,
    rename: inout DriftChange, changes: inout [DriftChange]
  ) -> RenameOutcome {
    let compare: (String?) -> String? = { value in sample.hashed ? value.map(SampleHash.of) : value }
    let total = pairs.count
    let equal = pairs.filter { $0.old == compare($0.new) }.count
    let ratio = Double(equal) / Double(max(total, 1))
    if ratio >= Self.evidenceThreshold {
      rename.evidence.append("\(old) = \(new) on \(equal)/\(total) sampled keys")
      rename.confidence = max(rename.confidence, 0.99)
      rename.evidenceKinds = Self.adding(.dataKeys, to: rename.evidenceKinds)
      return .kept(remap: nil)
    }
    if !sample.hashed, let scale = Self.scaleRelation(pairs) {
      // Renamed and rescaled: `amount = amount_cents / 100 on 1000/1000 keys`.
      let line = "\(new) = \(old) \(scale.relation) on \(scale.agreeing)/\(scale.joined) sampled keys"
      rename.evidence.append(line)
      rename.confidence = max(rename.confidence, 0.95)
      rename.evidenceKinds = Self.adding(.dataKeys, to: rename.evidenceKinds)
      var change = DriftChange(
        kind: .scaleChanged, source: rename.source, sourceID: rename.sourceID, relation: rename.relation,
        from: old, to: .one(new), column: new, confidence: 0.99, breaking: rename.breaking,
        evidence: [
          line, "renamed and rescaled: readers that expect \(old)'s unit get numbers \(scale.relation)",
        ],
        parent: rename.id, blastRadius: rename.blastRadius)
      change.measure = ProfileMeasure(
        metric: "keys_scaled", before: 1, after: scale.factor, factor: scale.factor,
        keysAgreeing: scale.agreeing, keysJoined: scale.joined, snapshot: snapshot.id)
      return .kept(remap: change)
    }
    if let mapping = perKeyMapping(pairs, column: old, sample: sample, snapshot: snapshot) {
      let table = mapping.map { "\($0.old)→\($0.new ?? "?") \($0.support ?? 0)/\($0.total ?? 0)" }
      rename.evidenceKinds = Self.adding(.dataValues, to: rename.evidenceKinds)
      rename.evidence.append(
        "\(old) → \(new) on every sampled key, with its values renamed one to one: \(table.joined(separator: ", "))"
      )
      rename.confidence = max(rename.confidence, 0.95)
      let line = "per-key mapping from \(total) sampled keys: \(table.joined(separator: ", "))"
      let semantic = "proven from the data, but what the new values mean is a human's call"
      if let index = changes.firstIndex(where: {
        $0.kind == .valuesRemapped && $0.sourceID == rename.sourceID
          && $0.from?.lowercased() == old.lowercased()
      }) {
        changes[index].mapping = mapping
        changes[index].evidence.append(line)
        changes[index].evidence.append(semantic)
        changes[index].evidence.removeAll { $0.contains("a snapshot would prove it") }
        changes[index].confidence = max(changes[index].confidence, 0.95)
        return .kept(remap: nil)
      }
      var change = DriftChange(
        kind: .valuesRemapped, source: rename.source, sourceID: rename.sourceID, relation: rename.relation,
        from: old, to: .one(new), column: new, confidence: 0.95, breaking: rename.breaking,
        evidence: [line, semantic], parent: rename.id, blastRadius: rename.blastRadius)
      change.mapping = mapping
      change.values = mapping.compactMap(\.new).sorted()
      return .kept(remap: change)
    }
    // Not the same column: the same values shuffled across keys, or other contents.
    // Multiset overlap of the values on both sides: near 1 when the same values sit on other keys.
    var bag: [String: Int] = [:]
    for value in pairs.compactMap(\.old) { bag[value, default: 0] += 1 }
    var shared = 0
    for value in pairs.compactMap({ compare($0.new) }) where (bag[value] ?? 0) > 0 {
      bag[value, default: 0] -= 1
      shared += 1
    }
    if Double(shared) >= 0.9 * Double(max(total, 1)) {
      return .refuted(
        "the data refutes a rename to \(new): \(new) holds the values of \(old) but on other keys (equal on \(equal)/\(total) sampled keys)"
      )
    }
    if ratio < 0.5 {
      return .refuted(
        "the data refutes a rename to \(new): \(old) = \(new) on only \(equal)/\(total) sampled keys")
    }
    rename.evidence.append(
      "the data does not confirm it: \(old) = \(new) on only \(equal)/\(total) sampled keys")
    rename.confidence = min(rename.confidence, 0.5)
    return .kept(remap: nil)
  }

  /// New = old × 10^k (k ≠ 0) on at least `evidenceThreshold` of the pairs where both are numbers (and at
  /// least 5 of them, all pairs numeric): the relation in words, the factor and the counts.
  static func scaleRelation(_ pairs: [(old: String?, new: String?)]) -> (
    relation: String, factor: Double, agreeing: Int, joined: Int
  )? {
    let numeric = pairs.compactMap { pair -> (Double, String)? in
      guard let o = pair.old.flatMap(Double.init), let n = pair.new, Double(n) != nil else { return nil }
      return (o, n)
    }
    let nonNull = pairs.filter { $0.old != nil || $0.new != nil }.count
    let ratios = numeric.compactMap { pair -> Double? in
      guard pair.0 != 0, let new = Double(pair.1), new != 0 else { return nil }
      return abs(new / pair.0)
    }.sorted()
    guard numeric.count >= 5, numeric.count == nonNull, !ratios.isEmpty,
      let (exponent, factor) = powerOfTen(ratios[ratios.count / 2]), exponent != 0
    else { return nil }
    let agreeing = numeric.filter { scaled($0.0, by: factor, is: $0.1) }.count
    guard Double(agreeing) >= evidenceThreshold * Double(numeric.count) else { return nil }
    let relation = exponent < 0 ? "/ \(integer(1 / factor))" : "× \(integer(factor))"
    return (relation, factor, agreeing, numeric.count)
  }

  enum RenameOutcome {
    case kept(remap: DriftChange?)
    case refuted(String)
  }

  /// A consistent one-to-one table of values per key (every old value goes to one new value, on at least
  /// `evidenceThreshold` of its keys and at least two of them), or nil.
  private func perKeyMapping(
    _ pairs: [(old: String?, new: String?)], column: String, sample: KeyedSample, snapshot: Snapshot
  ) -> [ValueMapping]? {
    var byOld: [String: [String: Int]] = [:]
    for pair in pairs {
      guard let oldValue = pair.old, let newValue = pair.new else { continue }
      byOld[oldValue, default: [:]][newValue, default: 0] += 1
    }
    let names = oldValueNames(sample: sample, column: column, snapshot: snapshot)
    var mapping: [ValueMapping] = []
    var consistent = !byOld.isEmpty
    for (oldValue, news) in byOld {
      let support = news.values.reduce(0, +)
      guard let (best, count) = news.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }) else { continue }
      if Double(count) < Self.evidenceThreshold * Double(support) || support < 2 { consistent = false }
      mapping.append(
        ValueMapping(old: names[oldValue] ?? oldValue, new: best, support: count, total: support))
    }
    let newValues = Set(mapping.compactMap(\.new))
    guard consistent, newValues.count == mapping.count, mapping.count <= DriftEngine.valueProbeTopK else {
      return nil
    }
    mapping.sort { ($1.total ?? 0, $0.old) < ($0.total ?? 0, $1.old) }
    return mapping
  }

  /// A column that kept its name and whose values were replaced (a `values_remapped` from its declared
  /// `accepted_values`): the mapping per sampled key, with its counts (`free → starter 120/120`).
  private func keptColumnRemap(
    _ pairs: [(old: String?, new: String?)], old: String, new: String, sample: KeyedSample,
    snapshot: Snapshot, changes: inout [DriftChange]
  ) {
    guard
      let index = changes.firstIndex(where: {
        $0.kind == .valuesRemapped && $0.sourceID == sample.sourceID
          && $0.from?.lowercased() == old.lowercased()
      })
    else { return }
    // Only the values that are gone are mapped (a remap found against the baseline keeps the others).
    let names = oldValueNames(sample: sample, column: old, snapshot: snapshot)
    let gone = Set((changes[index].mapping ?? []).map(\.old))
    let pairs =
      gone.isEmpty ? pairs : pairs.filter { pair in pair.old.map { gone.contains(names[$0] ?? $0) } ?? false }
    guard let mapping = perKeyMapping(pairs, column: old, sample: sample, snapshot: snapshot) else {
      changes[index].evidence.append(
        "the keyed sample does not map \(old) one to one (\(pairs.count) sampled keys joined)")
      return
    }
    let table = mapping.map { "\($0.old)→\($0.new ?? "?") \($0.support ?? 0)/\($0.total ?? 0)" }
    changes[index].mapping = mapping
    changes[index].evidence.removeAll { $0.contains("a snapshot would prove it") }
    changes[index].evidence.append(
      "per-key mapping from \(pairs.count) sampled keys of \(sample.table.name).\(sample.key): \(table.joined(separator: ", "))"
    )
    changes[index].evidence.append("proven from the data, but what the new values mean is a human's call")
    changes[index].confidence = max(changes[index].confidence, 0.95)
  }

  static func adding(_ kind: EvidenceKind, to kinds: [EvidenceKind]?) -> [EvidenceKind] {
    RenameRules.ordered(Set(kinds ?? []).union([kind]))
  }

  /// A rename the data refutes is no rename: the old column is missing and the new one added, and the
  /// refutation stays on the missing column as evidence.
  static func refutedRename(_ rename: DriftChange, line: String) -> (missing: DriftChange, added: DriftChange)
  {
    let old = rename.from ?? ""
    let new = rename.to?.names.first ?? ""
    let relation = rename.relation ?? ""
    let readBy = rename.evidence.filter { $0.hasPrefix("read by ") }
    let names = rename.evidence.filter { !$0.hasPrefix("read by ") }
    var missing = DriftChange(
      kind: .columnMissing, source: rename.source, sourceID: rename.sourceID, relation: rename.relation,
      from: old, to: nil, confidence: 1, breaking: rename.breaking,
      evidence: ["\(relation) has no column \(old)", line]
        + (names.isEmpty ? [] : ["what suggested the rename: \(names.joined(separator: "; "))"]) + readBy,
      parent: rename.parent, blastRadius: rename.blastRadius)
    missing.evidenceKinds = rename.evidenceKinds
    let added = DriftChange(
      kind: .columnAdded, source: rename.source, sourceID: rename.sourceID, relation: rename.relation,
      from: nil, to: .one(new), confidence: 1, breaking: false,
      evidence: ["\(relation).\(new) is not declared", "not \(old) renamed: \(line)"], parent: rename.parent)
    return (missing, added)
  }

  /// A position-and-type hint the data proves: the missing column is the new one, renamed.
  static func confirmedHint(_ missing: DriftChange, to new: String, line: String) -> DriftChange {
    let readBy = missing.evidence.filter { $0.hasPrefix("read by ") }
    var renamed = DriftChange(
      kind: .columnRenamed, source: missing.source, sourceID: missing.sourceID, relation: missing.relation,
      from: missing.from, to: .one(new), confidence: 0.99, breaking: missing.breaking,
      evidence: [
        line,
        "the names do not say it, the data does; \(new) stands where \(missing.from ?? "") stood with a compatible type",
      ] + readBy, parent: missing.parent, blastRadius: missing.blastRadius)
    renamed.evidenceKinds = adding(.dataKeys, to: missing.evidenceKinds)
    return renamed
  }

  /// With hashed samples, the names of old values come from the snapshot's profile (hash → value).
  private func oldValueNames(sample: KeyedSample, column: String, snapshot: Snapshot) -> [String: String] {
    guard sample.hashed else { return [:] }
    let profile = snapshot.profiles.first {
      $0.column.table == sample.table.name && $0.column.schema == sample.table.schema
        && $0.column.column == column
    }
    var names: [String: String] = [:]
    for value in profile?.topValues ?? [] { names[SampleHash.of(value.value)] = value.value }
    return names
  }

  private func splitEvidence(
    _ pairs: [(key: String, old: String?, new: [String?])], targets: [String], hashed: Bool,
    change: inout DriftChange
  ) {
    guard !hashed else {
      change.evidence.append("the sample keeps hashes only (--no-sample-values): no template can be derived")
      return
    }
    let rows = pairs.compactMap { pair in pair.old.map { ($0, pair.new.map { $0 ?? "" }) } }
    guard let template = SplitTemplate.derive(from: rows, columns: targets) else {
      change.evidence.append(
        "no template over \(targets.joined(separator: ", ")) rebuilds \(change.from ?? "the old value")")
      change.confidence = min(change.confidence, 0.4)
      return
    }
    change.template = template
    let matched = template.matched ?? 0
    let sampled = template.sampled ?? 0
    let ratio = Double(matched) / Double(max(sampled, 1))
    if ratio >= Self.evidenceThreshold {
      change.evidence.removeAll { $0.contains("would prove") }
      change.evidence.append(
        "\(template) rebuilds \(change.from ?? "the old value") on \(matched)/\(sampled) sampled keys")
      change.confidence = max(change.confidence, 0.99)
    } else {
      change.evidence.append(
        "\(template) rebuilds \(change.from ?? "the old value") on only \(matched)/\(sampled) sampled keys: a question for a human"
      )
      change.confidence = min(change.confidence, 0.6)
    }
  }

  // MARK: - distributions (no key)

  private func applyDistributions(
    snapshot: Snapshot, liveProfiles: [ColumnProfile], requests: [EvidenceRequest],
    to changes: inout [DriftChange]
  ) {
    let keyed = Set(requests.map(\.sample.sourceID))
    // Splits the keys did not settle: the separators from the shapes of the old values, when they agree.
    for index in changes.indices {
      let change = changes[index]
      guard change.kind == .columnSplit, change.template == nil, let sourceID = change.sourceID,
        !keyed.contains(sourceID) || change.evidence.contains(where: { $0.contains("hashes only") }),
        let source = project.sources[sourceID], let from = change.from, let parts = change.to?.names,
        let old = snapshot.profiles.first(where: {
          $0.column.schema == source.schemaRef
            && $0.column.table.lowercased() == source.identifier.lowercased()
            && $0.column.column.lowercased() == from.lowercased()
        }),
        let (template, agreeing) = SplitTemplate.fromShapes(
          old.topShapes ?? [], nonNull: old.rowCount - old.nullCount, columns: parts)
      else { continue }
      changes[index].template = template
      changes[index].evidence.append(
        "separators from the shapes of \(from)'s values in snapshot \(snapshot.id) (\(agreeing) of \(old.rowCount - old.nullCount) non-null values): \(template), not proven per key"
      )
    }
    // Renames without a key: the old column's profile against the new column's.
    for index in changes.indices {
      let change = changes[index]
      guard change.kind == .columnRenamed, let sourceID = change.sourceID, !keyed.contains(sourceID),
        let source = project.sources[sourceID], let from = change.from, let to = change.to?.names.first,
        let old = snapshot.profiles.first(where: {
          $0.column.schema == source.schemaRef
            && $0.column.table.lowercased() == source.identifier.lowercased()
            && $0.column.column.lowercased() == from.lowercased()
        }),
        let new = liveProfiles.first(where: {
          $0.column.column == to && change.relation?.hasSuffix("." + $0.column.table) == true
        })
      else { continue }
      let remapped = changes.contains {
        $0.kind == .valuesRemapped && $0.sourceID == sourceID && $0.from?.lowercased() == from.lowercased()
      }
      let oldTop = ColumnProfile.ranked(old.topValues)
      let newTop = ColumnProfile.ranked(new.topValues)
      let summary = { (profile: ColumnProfile) in
        "\(profile.rowCount) rows, \(profile.nullCount) nulls, \(profile.distinctCount) distinct"
      }
      if old.rowCount == new.rowCount, old.nullCount == new.nullCount, old.distinctCount == new.distinctCount,
        oldTop == newTop
      {
        changes[index].evidence.append(
          "no key to join on: \(from) in snapshot \(snapshot.id) and \(to) now have the same profile (\(summary(new)), same top values; lower confidence than a key join)"
        )
        changes[index].confidence = max(change.confidence, min(0.9, change.confidence + 0.1))
      } else if !remapped, old.topValuesComplete, new.topValuesComplete,
        Set(oldTop.map(\.value)).isDisjoint(with: newTop.map(\.value)), !oldTop.isEmpty
      {
        changes[index].evidence.append(
          "no key to join on, and \(to) shares no value with \(from) in snapshot \(snapshot.id): other contents"
        )
        changes[index].confidence = min(change.confidence, 0.5)
      } else {
        changes[index].evidence.append(
          "no key to join on: \(from) in snapshot \(snapshot.id) (\(summary(old))) and \(to) now (\(summary(new))) differ in profile"
        )
      }
    }
    for index in changes.indices {
      let change = changes[index]
      // Not when the keyed sample already proved the mapping per key.
      let provenPerKey = (change.mapping ?? []).contains { $0.support != nil }
      guard change.kind == .valuesRemapped, !provenPerKey, let sourceID = change.sourceID,
        let source = project.sources[sourceID], let from = change.from, let column = change.column,
        let old = snapshot.profiles.first(where: {
          $0.column.schema == source.schemaRef
            && $0.column.table.lowercased() == source.identifier.lowercased()
            && $0.column.column.lowercased() == from.lowercased()
        }),
        let new = liveProfiles.first(where: {
          $0.column.column == column && change.relation?.hasSuffix("." + $0.column.table) == true
        })
      else { continue }
      let why = keyed.contains(sourceID) ? "the keyed sample does not map it" : "no key to join on"
      // Values held before and now are no part of the remap: the gone ones pair with the new ones.
      let kept = Set(old.topValues.map(\.value)).intersection(new.topValues.map(\.value))
      let oldValues = ColumnProfile.ranked(old.topValues).filter { !kept.contains($0.value) }
      let newValues = ColumnProfile.ranked(new.topValues).filter { !kept.contains($0.value) }
      guard old.topValuesComplete, new.topValuesComplete, oldValues.count == newValues.count,
        !oldValues.isEmpty
      else {
        changes[index].evidence.removeAll { $0.contains("a snapshot would prove it") }
        changes[index].evidence.append(
          "snapshot \(snapshot.id) does not prove it: not per key (\(why)), and the value counts before (\(old.distinctCount)) and now (\(new.distinctCount)) do not pair up by frequency rank"
        )
        continue
      }
      let mapping = zip(oldValues, newValues).map { ValueMapping(old: $0.value, new: $1.value) }
      let ranks = zip(oldValues, newValues).map { "\($0.value) (\($0.count)) → \($1.value) (\($1.count))" }
      let sameCounts = zip(oldValues, newValues).allSatisfy { $0.count == $1.count }
      changes[index].mapping = mapping
      changes[index].evidence.removeAll { $0.contains("a snapshot would prove it") }
      changes[index].evidence.append(
        "by frequency rank against snapshot \(snapshot.id), not proven per key (\(why)): \(ranks.joined(separator: ", "))"
      )
      changes[index].confidence = sameCounts ? 0.7 : 0.5
    }
  }
}

extension SplitTemplate {
  /// The template that rebuilds the most `rows` (old value, new part values in `columns` order) exactly,
  /// with the separators found between the parts in the old values. `matched`/`sampled` say how many.
  public static func derive(from rows: [(old: String, parts: [String])], columns: [String]) -> SplitTemplate?
  {
    guard !rows.isEmpty, !columns.isEmpty else { return nil }
    var tally: [[Part]: Int] = [:]
    var order: [[Part]] = []
    for (old, parts) in rows {
      var orders = [Array(parts.indices)]
      let positions = parts.map { part in part.isEmpty ? nil : old.firstRange(of: part)?.lowerBound }
      if positions.allSatisfy({ $0 != nil }) {
        let byPosition = parts.indices.sorted {
          (positions[$0] ?? old.startIndex) < (positions[$1] ?? old.startIndex)
        }
        if byPosition != orders[0] { orders.append(byPosition) }
      }
      for indexes in orders {
        guard let candidate = candidate(old: old, parts: parts, order: indexes, columns: columns) else {
          continue
        }
        if tally[candidate] == nil { order.append(candidate) }
        tally[candidate, default: 0] += 1
      }
    }
    guard let best = order.max(by: { (tally[$0] ?? 0) < (tally[$1] ?? 0) }) else { return nil }
    var template = SplitTemplate(parts: best)
    template.matched =
      rows.filter { template.render(Dictionary(uniqueKeysWithValues: zip(columns, $0.parts))) == $0.old }
      .count
    template.sampled = rows.count
    return template
  }

  /// The parts in `order`, located one after another in `old`; the text between them becomes literals.
  private static func candidate(old: String, parts: [String], order: [Int], columns: [String]) -> [Part]? {
    var result: [Part] = []
    var position = old.startIndex
    for index in order {
      let part = parts[index]
      let range: Range<String.Index>
      if part.isEmpty {
        range = position..<position
      } else {
        guard let found = old[position...].firstRange(of: part) else { return nil }
        range = found
      }
      let literal = String(old[position..<range.lowerBound])
      if !literal.isEmpty { result.append(.literal(literal)) }
      result.append(.column(columns[index]))
      position = range.upperBound
    }
    if position < old.endIndex { result.append(.literal(String(old[position...]))) }
    return result
  }

  /// The template whose separators every frequent value shape of the old column agrees on (at least
  /// `evidenceThreshold` of the non-null values), with as many separator runs as there are gaps between
  /// `columns`: `Aaaa Aaaaa` and `Aaa Aaaaaaa` give `{first_name} {last_name}`. nil when the shapes disagree,
  /// are cut at `ValueShape.maxLength`, or have separators at their ends. Not proven per key: no counts.
  public static func fromShapes(_ shapes: [ValueCount], nonNull: Int, columns: [String]) -> (
    SplitTemplate, agreeing: Int
  )? {
    guard columns.count >= 2, nonNull > 0 else { return nil }
    var tally: [[String]: Int] = [:]
    for shape in shapes {
      guard shape.value.unicodeScalars.count < ValueShape.maxLength else { continue }
      var separators: [String] = []
      var current = ""
      var startsWithSeparator = false
      for (offset, character) in shape.value.enumerated() {
        if character == "9" || character == "a" || character == "A" {
          if !current.isEmpty {
            if offset == current.count { startsWithSeparator = true }
            separators.append(current)
            current = ""
          }
        } else {
          current.append(character)
        }
      }
      guard !startsWithSeparator, current.isEmpty, separators.count == columns.count - 1 else { continue }
      tally[separators, default: 0] += shape.count
    }
    guard let (separators, agreeing) = tally.max(by: { $0.value < $1.value }),
      Double(agreeing) >= DriftEngine.evidenceThreshold * Double(nonNull)
    else { return nil }
    var parts: [Part] = []
    for (index, column) in columns.enumerated() {
      if index > 0 { parts.append(.literal(separators[index - 1])) }
      parts.append(.column(column))
    }
    return (SplitTemplate(parts: parts), agreeing)
  }

  /// The old value this template makes of the new columns' values.
  public func render(_ values: [String: String]) -> String {
    parts.map {
      switch $0 {
      case .column(let name): values[name] ?? ""
      case .literal(let text): text
      case .unknown: ""
      }
    }.joined()
  }
}
