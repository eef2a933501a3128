/// Drift behind an unchanged schema: a column keeps its name and type while what it holds changes. For every
/// declared column that something downstream reads and that no schema change concerns, the live profile is
/// compared with the baseline snapshot's, and with a keyed sample the values per key:
///
/// - two columns swapped (each holds what the other held): `columns_swapped`;
/// - the share of NULLs jumped, or the column became all NULL: `null_rate_changed`;
/// - the numbers are a power of ten larger or smaller (`amount = amount / 100 on 1000/1000 keys`):
///   `scale_changed`;
/// - the values are of another kind of text (`ShapeClass`: e-mail-shaped → name-shaped): `value_shape_changed`;
/// - the distinct count collapsed or exploded faster than the rows grew or shrank: `distinct_count_changed`.
///
/// One change per column at most, in that order of precedence. Every rule is relative to the table's own
/// growth, so a stable column of a table that grows, shrinks or gets new rows every day stays quiet. Pure.
extension DriftEngine {
  /// Thresholds of the profile rules (see `docs/benchmarks.md` for how they score on the drift benchmark).
  public enum ProfileRules {
    /// Both profiles need this many rows: fewer tell nothing.
    public static let minimumRows = 20
    /// A null fraction that rose by at least this much (and at least doubled) is a jump.
    public static let nullJump = 0.25
    /// Total variation distance between the shape class shares before and now that is a shape change.
    public static let shapeDistance = 0.5
    /// For a swap: each column's shares now are this close to the other's before.
    public static let swapCloseness = 0.2
    /// A mean magnitude ratio within this much of a power of ten (in log10) is a scale change.
    public static let scaleTolerance = 0.15
    /// A scale change the sampled keys refute (< 50 % agree): a hint, below the 0.5 of a claim.
    public static let refutedScale = 0.45
    /// Distinct counts that fell or rose by this factor more than the non-null rows did.
    public static let distinctFactor = 10.0
  }

  /// A declared column the profile rules compare: where it is now and its baseline profile.
  struct ProfiledColumn {
    var source: SourceTable
    /// The declared name (as the snapshot profiled it).
    var declared: String
    var baseline: ColumnProfile
  }

  /// The declared columns of the sources with a baseline profile and no column-level change: candidates for
  /// the profile rules, before the check of who reads them.
  func profiledColumns(changes: [DriftChange], snapshot: Snapshot) -> [ProfiledColumn] {
    var touched: [String: Set<String>] = [:]
    var gone = Set<String>()
    for change in changes {
      guard let sourceID = change.sourceID else { continue }
      if change.kind == .tableMissing { gone.insert(sourceID) }
      guard !change.kind.isTableLevel else { continue }
      for name in [change.from, change.column].compactMap({ $0 }) + (change.to?.names ?? []) {
        touched[sourceID, default: []].insert(name.lowercased())
      }
    }
    var result: [ProfiledColumn] = []
    for source in project.sources.values.sorted(by: { $0.uniqueID < $1.uniqueID })
    where !gone.contains(source.uniqueID) {
      for column in source.columns where !(touched[source.uniqueID] ?? []).contains(column.name.lowercased())
      {
        guard
          let baseline = snapshot.profiles.first(where: {
            $0.column.schema == source.schemaRef
              && $0.column.table.lowercased() == source.identifier.lowercased()
              && $0.column.column.lowercased() == column.name.lowercased()
          })
        else { continue }
        result.append(ProfiledColumn(source: source, declared: column.name, baseline: baseline))
      }
    }
    return result
  }

  /// The live columns whose profiles the profile rules need.
  public func profileDriftProbes(changes: [DriftChange], live: LiveSchema, snapshot: Snapshot) -> [ColumnRef]
  {
    let context = Context(project: project, lineage: lineage)
    var usages: [String: [(node: GraphNode, usage: ColumnUsage?)]] = [:]
    return profiledColumns(changes: changes, snapshot: snapshot).compactMap { column in
      guard let table = liveTable(for: column.source, changes: changes, live: live),
        let liveColumn =
          table.columns.first(where: { $0.name == column.declared })
          ?? table.columns.first(where: { $0.name.lowercased() == column.declared.lowercased() })
      else { return nil }
      let readers = usages[column.source.uniqueID] ?? context.readerUsages(column.source)
      usages[column.source.uniqueID] = readers
      guard !context.columnRadius(column.source, column: column.declared, usages: readers).0.isEmpty else {
        return nil
      }
      return ColumnRef(schema: table.schema, table: table.name, column: liveColumn.name)
    }
  }

  /// The profile drift changes of `changes`' sources, from the baseline profiles in `snapshot`, the live
  /// `liveProfiles` (of `profileDriftProbes`) and the keyed samples joined by `requests`/`fetched`.
  func profileDrift(
    changes: [DriftChange], snapshot: Snapshot, liveProfiles: [ColumnProfile], requests: [EvidenceRequest],
    fetched: [[String: [String?]]?]
  ) -> [DriftChange] {
    let context = Context(project: project, lineage: lineage)
    struct Compared {
      var column: ProfiledColumn
      var live: ColumnProfile
      var radius: BlastRadius
      var readers: [String]
    }
    var bySource: [String: [Compared]] = [:]
    var order: [String] = []
    var usages: [String: [(node: GraphNode, usage: ColumnUsage?)]] = [:]
    for column in profiledColumns(changes: changes, snapshot: snapshot) {
      let source = column.source
      let tableName =
        changes.first { $0.sourceID == source.uniqueID && $0.kind == .tableRenamed }?.to?.names.first
        ?? source.identifier
      guard
        let live = liveProfiles.first(where: {
          $0.column.schema.schema.lowercased() == source.schema.lowercased()
            && $0.column.table.lowercased() == tableName.lowercased()
            && $0.column.column.lowercased() == column.declared.lowercased()
        })
      else { continue }
      let readers = usages[source.uniqueID] ?? context.readerUsages(source)
      usages[source.uniqueID] = readers
      let (radius, readerIDs) = context.columnRadius(source, column: column.declared, usages: readers)
      guard !radius.isEmpty else { continue }
      if bySource[source.uniqueID] == nil { order.append(source.uniqueID) }
      bySource[source.uniqueID, default: []].append(
        Compared(column: column, live: live, radius: radius, readers: readerIDs))
    }

    var result: [DriftChange] = []
    for sourceID in order {
      let compared = bySource[sourceID] ?? []
      guard let source = compared.first?.column.source else { continue }
      let keyed = KeyedJoin(sourceID: sourceID, requests: requests, fetched: fetched)
      var done = Set<String>()
      func make(
        _ kind: ChangeKind, _ item: Compared, to: ChangeTarget? = nil, confidence: Double, evidence: [String],
        measure: ProfileMeasure, radius: BlastRadius? = nil, readers: [String]? = nil
      ) {
        let readerIDs = readers ?? item.readers
        var lines = evidence
        if !readerIDs.isEmpty {
          lines.append("read by \(readerIDs.map(Context.shortName).joined(separator: ", "))")
        }
        var change = DriftChange(
          kind: kind, source: source.displayName, sourceID: sourceID,
          relation: "\(item.live.column.schema.schema).\(item.live.column.table)", from: item.column.declared,
          to: to, column: item.live.column.column, confidence: confidence, breaking: true, evidence: lines,
          blastRadius: radius ?? item.radius)
        change.measure = measure
        result.append(change)
      }

      // Swaps first: a pair of columns, each now like the other was.
      for (i, a) in compared.enumerated() where !done.contains(a.column.declared) {
        for b in compared[(i + 1)...]
        where !done.contains(b.column.declared) && !done.contains(a.column.declared) {
          guard
            let swap = swapEvidence(a: a.column, aLive: a.live, b: b.column, bLive: b.live, keyed: keyed)
          else { continue }
          done.formUnion([a.column.declared, b.column.declared])
          make(
            .columnsSwapped, a, to: .one(b.live.column.column), confidence: swap.confidence,
            evidence: swap.evidence, measure: swap.measure(snapshot.id), radius: a.radius.union(b.radius),
            readers: Array(Set(a.readers + b.readers)).sorted())
        }
      }
      for item in compared where !done.contains(item.column.declared) {
        let name = item.live.column.column
        let old = item.column.baseline
        let new = item.live
        guard old.rowCount >= ProfileRules.minimumRows, new.rowCount >= ProfileRules.minimumRows else {
          continue
        }
        let pairs = keyed.pairs(old: item.column.declared, new: name)
        let estimated = old.estimated == true || new.estimated == true
        let since = "snapshot \(snapshot.id)"
        if let finding = nullJump(old: old, new: new, pairs: pairs, name: name, since: since) {
          make(
            .nullRateChanged, item,
            confidence: estimated ? min(finding.confidence, 0.85) : finding.confidence,
            evidence: finding.evidence,
            measure: ProfileMeasure(
              metric: "null_fraction", before: old.nullFraction, after: new.nullFraction,
              keysAgreeing: finding.keys?.agreeing, keysJoined: finding.keys?.joined, snapshot: snapshot.id))
          continue
        }
        let scaleFinding = scale(old: old, new: new, pairs: pairs, name: name, since: since)
        func reportScale(_ finding: Finding) {
          make(
            .scaleChanged, item, confidence: finding.confidence, evidence: finding.evidence,
            measure: ProfileMeasure(
              metric: "mean_magnitude", before: old.meanMagnitude ?? 0, after: new.meanMagnitude ?? 0,
              factor: finding.factor, keysAgreeing: finding.keys?.agreeing, keysJoined: finding.keys?.joined,
              snapshot: snapshot.id))
        }
        if let finding = scaleFinding, !finding.refuted {
          reportScale(finding)
          continue
        }
        if let finding = shapeChange(old: old, new: new, pairs: pairs, name: name, since: since) {
          make(
            .valueShapeChanged, item, confidence: finding.confidence, evidence: finding.evidence,
            measure: ProfileMeasure(
              metric: "shape_class_share", before: finding.before, after: finding.after,
              shapeBefore: finding.from, shapeAfter: finding.to, snapshot: snapshot.id))
          continue
        }
        if let finding = distinctChange(old: old, new: new, pairs: pairs, name: name, since: since) {
          make(
            .distinctCountChanged, item,
            confidence: estimated ? min(finding.confidence, 0.6) : finding.confidence,
            evidence: finding.evidence,
            measure: ProfileMeasure(
              metric: "distinct_count", before: Double(old.distinctCount), after: Double(new.distinctCount),
              snapshot: snapshot.id))
          continue
        }
        // The magnitude moved by a power of ten but the keys show other values: said, as a hint only.
        if let finding = scaleFinding { reportScale(finding) }
      }
    }
    return result
  }

  // MARK: - the rules

  struct Finding {
    var confidence: Double
    var evidence: [String]
    var keys: (agreeing: Int, joined: Int)?
    var factor: Double?
    var from: ShapeClass?
    var to: ShapeClass?
    var before = 0.0
    var after = 0.0
    /// The sampled keys refute it (a scale change in the averages only): a hint below 0.5, reported only when
    /// no other rule explains the column.
    var refuted = false
  }

  static func percent(_ share: Double) -> String {
    let value = share * 100
    if value > 0, value < 1 { return "<1%" }
    if value < 100, value > 99 { return ">99%" }
    return "\(Int(value.rounded()))%"
  }

  func nullJump(
    old: ColumnProfile, new: ColumnProfile, pairs: KeyedPairs?, name: String, since: String
  ) -> Finding? {
    let before = old.nullFraction
    let after = new.nullFraction
    let allNull = new.nonNullCount == 0 && old.nonNullCount > 0
    guard allNull || (after - before >= ProfileRules.nullJump && after >= 2 * before) else { return nil }
    var evidence = [
      allNull
        ? "\(name) is NULL on all \(new.rowCount) rows; in \(since) it was NULL on \(Self.percent(before)) of \(old.rowCount)"
        : "\(name) is NULL on \(Self.percent(after)) of \(new.rowCount) rows; in \(since) on \(Self.percent(before)) of \(old.rowCount)"
    ]
    var confidence = allNull ? 0.99 : 0.9
    var keys: (agreeing: Int, joined: Int)?
    if let pairs {
      let had = pairs.values.filter { $0.old != nil }
      let lost = had.filter { $0.new == nil }.count
      if !had.isEmpty {
        evidence.append("\(lost)/\(had.count) sampled keys that had a value are now NULL")
        keys = (lost, had.count)
        if Double(lost) >= 0.2 * Double(had.count) { confidence = max(confidence, 0.97) }
      }
    }
    return Finding(confidence: confidence, evidence: evidence, keys: keys)
  }

  func scale(old: ColumnProfile, new: ColumnProfile, pairs: KeyedPairs?, name: String, since: String)
    -> Finding?
  {
    guard let before = old.meanMagnitude, let after = new.meanMagnitude, before > 0, after > 0 else {
      return nil
    }
    guard let (exponent, factor) = Self.powerOfTen(after / before), exponent != 0 else { return nil }
    let relation = exponent < 0 ? "/ \(Self.integer(1 / factor))" : "× \(Self.integer(factor))"
    var evidence = [
      "the average magnitude of \(name) went from \(Self.number(before)) in \(since) to \(Self.number(after)) now: \(relation)"
    ]
    var confidence = 0.8
    var keys: (agreeing: Int, joined: Int)?
    if let pairs, !pairs.hashed {
      let numeric = pairs.values.compactMap { pair -> (Double, String)? in
        guard let o = pair.old.flatMap(Double.init), let n = pair.new, Double(n) != nil else { return nil }
        return (o, n)
      }
      let agreeing = numeric.filter { Self.scaled($0.0, by: factor, is: $0.1) }.count
      if !numeric.isEmpty {
        keys = (agreeing, numeric.count)
        let share = Double(agreeing) / Double(numeric.count)
        if share >= DriftEngine.evidenceThreshold {
          evidence.append(
            "\(name) = \(name) (\(since)) \(relation) on \(agreeing)/\(numeric.count) sampled keys")
          confidence = 0.99
        } else if share < 0.5 {
          evidence.append(
            "per key the relation holds on only \(agreeing)/\(numeric.count) sampled keys: other values, not only another unit"
          )
          return Finding(
            confidence: ProfileRules.refutedScale, evidence: evidence, keys: (agreeing, numeric.count),
            factor: factor, refuted: true)
        } else {
          evidence.append(
            "\(name) = \(name) (\(since)) \(relation) on \(agreeing)/\(numeric.count) sampled keys")
        }
      }
    }
    return Finding(confidence: confidence, evidence: evidence, keys: keys, factor: factor)
  }

  /// `new` (as the warehouse renders it) is `old × factor`: exactly, rounded to the decimals `new` is shown
  /// with (a `numeric(12, 2)` column keeps cents), or truncated to an integer.
  static func scaled(_ old: Double, by factor: Double, is newText: String) -> Bool {
    guard let new = Double(newText) else { return false }
    let expected = old * factor
    if abs(expected - new) <= 1e-6 * max(abs(expected), 1) { return true }
    let decimals =
      newText.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
    guard !newText.contains("e"), !newText.contains("E") else { return false }
    var unit = 1.0
    for _ in 0..<decimals { unit /= 10 }
    if abs(expected - new) <= unit / 2 * (1 + 1e-9) { return true }
    return decimals == 0 && expected.rounded(.towardZero) == new
  }

  func shapeChange(old: ColumnProfile, new: ColumnProfile, pairs: KeyedPairs?, name: String, since: String)
    -> Finding?
  {
    let before = old.shapeShares
    let after = new.shapeShares
    guard !before.isEmpty, !after.isEmpty,
      let (fromClass, fromShare) = Self.dominant(before), let (toClass, toShare) = Self.dominant(after),
      fromClass != toClass
    else { return nil }
    let distance = Self.distance(before, after)
    guard distance >= ProfileRules.shapeDistance else { return nil }
    var evidence = [
      "\(name) was \(Self.percent(fromShare)) \(fromClass.label) in \(since), now \(Self.percent(toShare)) \(toClass.label) (\(Self.percent(after[fromClass] ?? 0)) \(fromClass.label))"
    ]
    var confidence = distance >= 0.8 ? 0.9 : 0.75
    if let pairs, !pairs.values.isEmpty {
      let compare: (String?) -> String? = { value in pairs.hashed ? value.map(SampleHash.of) : value }
      let changed = pairs.values.filter { $0.old != compare($0.new) }.count
      evidence.append("\(changed)/\(pairs.values.count) sampled keys hold another value than in \(since)")
      if Double(changed) >= 0.5 * Double(pairs.values.count) { confidence = max(confidence, 0.95) }
    }
    return Finding(
      confidence: confidence, evidence: evidence, from: fromClass, to: toClass, before: fromShare,
      after: toShare)
  }

  func distinctChange(
    old: ColumnProfile, new: ColumnProfile, pairs: KeyedPairs? = nil, name: String, since: String
  ) -> Finding? {
    guard old.nonNullCount > 0, new.nonNullCount > 0, old.distinctCount > 0, new.distinctCount > 0 else {
      return nil
    }
    let distinct = Double(new.distinctCount) / Double(old.distinctCount)
    let rows = Double(new.nonNullCount) / Double(old.nonNullCount)
    let factor = ProfileRules.distinctFactor
    let collapsed = old.distinctCount >= 10 && distinct <= 1 / factor && distinct <= rows / factor
    let exploded =
      new.distinctCount >= old.distinctCount + 20 && distinct >= factor && distinct >= rows * factor
    guard collapsed || exploded else { return nil }
    let what = collapsed ? "collapsed" : "exploded"
    var evidence = [
      "\(name) has \(new.distinctCount) distinct values in \(new.nonNullCount) non-null rows; in \(since) \(old.distinctCount) in \(old.nonNullCount): \(what)"
    ]
    var confidence = 0.85
    // As for a shape change: the keys show the values themselves changed (calibrated on the drift benchmark).
    if let pairs, !pairs.values.isEmpty {
      let compare: (String?) -> String? = { value in pairs.hashed ? value.map(SampleHash.of) : value }
      let changed = pairs.values.filter { $0.old != compare($0.new) }.count
      evidence.append("\(changed)/\(pairs.values.count) sampled keys hold another value than in \(since)")
      if Double(changed) >= 0.5 * Double(pairs.values.count) { confidence = 0.95 }
    }
    return Finding(confidence: confidence, evidence: evidence)
  }

  /// `a` now holds what `b` held and `b` what `a` held: per key when a sample joins, else by shape classes.
  func swapEvidence(
    a: ProfiledColumn, aLive: ColumnProfile, b: ProfiledColumn, bLive: ColumnProfile, keyed: KeyedJoin
  ) -> (confidence: Double, evidence: [String], measure: (String) -> ProfileMeasure)? {
    let an = aLive.column.column
    let bn = bLive.column.column
    if let aToB = keyed.pairs(old: b.declared, new: an), let bToA = keyed.pairs(old: a.declared, new: bn),
      let same = keyed.pairs(old: a.declared, new: an), !aToB.values.isEmpty
    {
      let compare: (String?) -> String? = { value in aToB.hashed ? value.map(SampleHash.of) : value }
      let nonNull = aToB.values.filter { $0.old != nil }
      let crossA = aToB.values.filter { $0.old != nil && $0.old == compare($0.new) }.count
      let crossB = bToA.values.filter { $0.old != nil && $0.old == compare($0.new) }.count
      let stayed = same.values.filter { $0.old != nil && $0.old == compare($0.new) }.count
      let joined = max(nonNull.count, 1)
      guard Double(crossA) >= DriftEngine.evidenceThreshold * Double(joined),
        Double(crossB) >= DriftEngine.evidenceThreshold
          * Double(max(bToA.values.filter { $0.old != nil }.count, 1)),
        Double(stayed) < 0.5 * Double(joined)
      else { return nil }
      return (
        0.99,
        [
          "\(an) = \(b.declared) (snapshot) on \(crossA)/\(nonNull.count) sampled keys",
          "\(bn) = \(a.declared) (snapshot) on \(crossB)/\(bToA.values.filter { $0.old != nil }.count) sampled keys",
          "the names say \(an) and \(bn), the values say the other way round",
        ],
        {
          ProfileMeasure(
            metric: "keys_swapped", before: 0, after: 1, keysAgreeing: crossA, keysJoined: nonNull.count,
            snapshot: $0)
        }
      )
    }
    let aOld = a.baseline.shapeShares
    let bOld = b.baseline.shapeShares
    let aNew = aLive.shapeShares
    let bNew = bLive.shapeShares
    guard !aOld.isEmpty, !bOld.isEmpty, !aNew.isEmpty, !bNew.isEmpty,
      a.baseline.rowCount >= ProfileRules.minimumRows, aLive.rowCount >= ProfileRules.minimumRows,
      Self.distance(aOld, bOld) >= ProfileRules.shapeDistance,
      Self.distance(aNew, bOld) <= ProfileRules.swapCloseness,
      Self.distance(bNew, aOld) <= ProfileRules.swapCloseness,
      let (aFrom, aFromShare) = Self.dominant(aOld), let (aTo, aToShare) = Self.dominant(aNew)
    else { return nil }
    let bFrom = Self.dominant(bOld)?.0 ?? .other
    return (
      0.85,
      [
        "\(an) was \(Self.percent(aFromShare)) \(aFrom.label), now \(Self.percent(aToShare)) \(aTo.label), as \(b.declared) was",
        "\(bn) was \(bFrom.label), now \(Self.dominant(bNew)?.0.label ?? "other text"), as \(a.declared) was",
        "no key joined: by the shapes of the values only",
      ],
      {
        ProfileMeasure(
          metric: "shape_class_share", before: aFromShare, after: aToShare, shapeBefore: aFrom,
          shapeAfter: aTo,
          snapshot: $0)
      }
    )
  }

  static func dominant(_ shares: [ShapeClass: Double]) -> (ShapeClass, Double)? {
    shares.max { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) }.map { ($0.key, $0.value) }
  }

  /// Total variation distance: half the sum of the absolute differences of the shares.
  static func distance(_ p: [ShapeClass: Double], _ q: [ShapeClass: Double]) -> Double {
    0.5 * Set(p.keys).union(q.keys).reduce(0) { $0 + abs((p[$1] ?? 0) - (q[$1] ?? 0)) }
  }

  static func number(_ value: Double) -> String {
    if value >= 100 { return "\(Int(value.rounded()))" }
    return Decimal2.format(value)
  }

  static func integer(_ value: Double) -> String { "\(Int(value.rounded()))" }

  /// The power of ten `ratio` is, within `ProfileRules.scaleTolerance` (in log10): the exponent and
  /// 10^exponent; nil when it is none. (Core has no `log10`.)
  public static func powerOfTen(_ ratio: Double) -> (exponent: Int, factor: Double)? {
    guard ratio > 0, ratio.isFinite else { return nil }
    let root10 = 3.1622776601683795
    var rest = ratio
    var exponent = 0
    var factor = 1.0
    while rest >= root10, exponent < 30 {
      rest /= 10
      exponent += 1
      factor *= 10
    }
    while rest < 1 / root10, exponent > -30 {
      rest *= 10
      exponent -= 1
      factor /= 10
    }
    // 10^0.15 = 1.4125…
    let tolerance = 1.4125375446227544
    guard rest <= tolerance, rest >= 1 / tolerance else { return nil }
    return (exponent, factor)
  }
}

/// One sampled column before and its live column now, value per joined key.
struct KeyedPairs {
  var values: [(old: String?, new: String?)]
  /// The old values are `SampleHash`es: compare hashes, no arithmetic.
  var hashed: Bool
}

/// A source's keyed sample joined to its live rows (`EvidenceRequest`s and their fetched rows).
struct KeyedJoin {
  var request: DriftEngine.EvidenceRequest?
  var rows: [String: [String?]]?

  init(sourceID: String, requests: [DriftEngine.EvidenceRequest], fetched: [[String: [String?]]?]) {
    for (request, rows) in zip(requests, fetched) where request.sample.sourceID == sourceID {
      self.request = request
      self.rows = rows
      return
    }
  }

  /// The sampled values of `old` (declared name) and the live values of `new` on the keys found now.
  func pairs(old: String, new: String) -> KeyedPairs? {
    guard let request, let rows,
      let oldIndex = request.sample.columns.firstIndex(where: { $0.lowercased() == old.lowercased() }),
      let newIndex = request.columns.firstIndex(of: new)
    else { return nil }
    let values = request.sample.rows.compactMap { row -> (old: String?, new: String?)? in
      guard let live = rows[row.key], oldIndex < row.values.count, newIndex < live.count else { return nil }
      return (row.values[oldIndex], live[newIndex])
    }
    return KeyedPairs(values: values, hashed: request.sample.hashed)
  }
}
