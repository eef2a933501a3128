/// Identifier names as token lists: the evidence renames and splits are inferred from.
///
/// `customerSegment`, `customer_segment` and `CUSTOMER-SEGMENT` all tokenize to `["customer", "segment"]`.
/// Plural tokens are singularized, so `customers` and `customer` compare equal.
enum NameTokens {
  static func tokens(_ name: String) -> [String] {
    var result: [String] = []
    var current = ""
    var previous: Character?
    func flush() {
      if !current.isEmpty { result.append(singular(current.lowercased())) }
      current = ""
    }
    for character in name {
      if character == "_" || character == "-" || character == " " || character == "." {
        flush()
      } else if character.isUppercase, let previous, previous.isLowercase || previous.isNumber {
        flush()
        current.append(character)
      } else if character.isNumber, let previous, previous.isLetter {
        flush()
        current.append(character)
      } else {
        current.append(character)
      }
      previous = character
    }
    flush()
    return result
  }

  /// A light singularizer for identifier tokens (not a full English stemmer).
  static func singular(_ token: String) -> String {
    guard token.count > 3 else { return token }
    if token.hasSuffix("ies") { return String(token.dropLast(3)) + "y" }
    if token.hasSuffix("sses") || token.hasSuffix("xes") || token.hasSuffix("ches") || token.hasSuffix("shes")
    {
      return String(token.dropLast(2))
    }
    if token.hasSuffix("ss") || token.hasSuffix("us") || token.hasSuffix("is") { return token }
    if token.hasSuffix("s") { return String(token.dropLast()) }
    return token
  }

  /// Common abbreviations in warehouse column names, mapped to one spelling.
  static let abbreviations: [String: String] = [
    "qty": "quantity", "amt": "amount", "num": "number", "no": "number", "nbr": "number",
    "addr": "address", "desc": "description", "cust": "customer", "tel": "phone", "ph": "phone",
    "zip": "postal", "zipcode": "postal", "postcode": "postal", "dt": "date", "ts": "timestamp",
    "tstamp": "timestamp", "acct": "account", "usr": "user", "org": "organization", "cnt": "count",
    "pct": "percent", "prod": "product", "txn": "transaction", "trx": "transaction", "msg": "message",
    "ref": "reference", "cat": "category", "st": "street", "fname": "first", "lname": "last",
  ]

  static func canonical(_ token: String) -> String { abbreviations[token] ?? token }

  /// Canonical words that say what kind of value a column holds, not which one it is: a timestamp (`_at`), a
  /// key (`_id`), an e-mail. Two names that share only such words name two different things.
  static let roleWords: Set<String> = [
    "id", "key", "reference", "uuid", "at", "on", "date", "time", "timestamp", "email", "mail", "name",
    "code", "amount", "number", "value", "type", "status", "flag", "count", "total", "address", "phone",
    "url", "text", "note", "description", "is", "has",
  ]

  /// Levenshtein distance, for typo-level renames (`adress` → `address`).
  static func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs.unicodeScalars)
    let b = Array(rhs.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}

/// How two column names relate, with the reason in words.
struct NameRelation: Equatable {
  var score: Double
  var reason: String?
  /// The relation comes through the table's own rename (`customer_id` → `account_id`).
  var followsTableRename = false

  static let none = NameRelation(score: 0, reason: nil)

  /// The names say something: any relation at all is name evidence.
  var isEvidence: Bool { score > 0 && reason != nil }
}

/// Token substitutions implied by a table rename (`customers` → `accounts` gives `customer` → `account`).
struct EntityMap: Equatable {
  var substitutions: [String: String] = [:]

  static let empty = EntityMap()

  /// Tokens that differ between the old and the new table names, paired in order when counts agree.
  static func from(oldTable: String, newTable: String) -> EntityMap {
    let old = NameTokens.tokens(oldTable)
    let new = NameTokens.tokens(newTable)
    let removed = old.filter { !new.contains($0) }
    let added = new.filter { !old.contains($0) }
    guard !removed.isEmpty, removed.count == added.count else { return .empty }
    var map = EntityMap()
    for (from, to) in zip(removed, added) { map.substitutions[from] = to }
    return map
  }

  func apply(_ tokens: [String]) -> (tokens: [String], substituted: [String]) {
    var substituted: [String] = []
    let mapped = tokens.map { token -> String in
      if let to = substitutions[token] {
        substituted.append("\(token) → \(to)")
        return to
      }
      return token
    }
    return (mapped, substituted)
  }
}

extension NameRelation {
  /// Name evidence that `old` was renamed to `new`, in 0…1.
  static func between(old: String, new: String, entities: EntityMap) -> NameRelation {
    if old.lowercased() == new.lowercased() { return NameRelation(score: 1, reason: "same name") }
    return between(
      old: old, new: new, oldTokens: NameTokens.tokens(old).map(NameTokens.canonical),
      newTokens: NameTokens.tokens(new).map(NameTokens.canonical), entities: entities)
  }

  /// The same, with both names' canonical tokens already known (callers comparing every pair of two
  /// column lists tokenize each name once).
  static func between(
    old: String, new: String, oldTokens: [String], newTokens: [String], entities: EntityMap
  ) -> NameRelation {
    if old.lowercased() == new.lowercased() { return NameRelation(score: 1, reason: "same name") }
    if oldTokens == newTokens {
      return NameRelation(score: 0.95, reason: "same words, spelled differently ('\(old)' → '\(new)')")
    }
    let (mapped, substituted) = entities.apply(oldTokens)
    if mapped == newTokens, !substituted.isEmpty {
      return NameRelation(
        score: 0.9, reason: "name follows the table rename (\(substituted.joined(separator: ", ")))",
        followsTableRename: true)
    }
    let oldSet = Set(mapped)
    let newSet = Set(newTokens)
    // One name extends the other: country → country_code, customer_id → id.
    if !oldSet.isEmpty, !newSet.isEmpty, oldSet.isSubset(of: newSet) || newSet.isSubset(of: oldSet) {
      let extra = newSet.symmetricDifference(oldSet).sorted()
      let via = substituted.isEmpty ? "" : " after the table rename (\(substituted.joined(separator: ", ")))"
      return NameRelation(
        score: 0.8,
        reason: "'\(new)' and '\(old)' differ only by '\(extra.joined(separator: "_"))'\(via)",
        followsTableRename: !substituted.isEmpty)
    }
    let shared = oldSet.intersection(newSet)
    let union = oldSet.union(newSet)
    let jaccard = union.isEmpty ? 0 : Double(shared.count) / Double(union.count)
    // The same meaning words with another kind word (`occurred_at` → `occurred_timestamp`, `customer_id` →
    // `customer_key`): as strong as one name extending the other.
    let gone = oldSet.subtracting(newSet)
    let came = newSet.subtracting(oldSet)
    if substituted.isEmpty, !shared.subtracting(NameTokens.roleWords).isEmpty,
      gone.isSubset(of: NameTokens.roleWords), came.isSubset(of: NameTokens.roleWords)
    {
      return NameRelation(
        score: 0.8,
        reason:
          "'\(new)' and '\(old)' share '\(shared.subtracting(NameTokens.roleWords).sorted().joined(separator: "_"))' and differ only in the kind word ('\(gone.sorted().joined(separator: "_"))' → '\(came.sorted().joined(separator: "_"))')"
      )
    }
    // Typos and small respellings: adress → address.
    let oldJoined = oldTokens.joined()
    let newJoined = newTokens.joined()
    let distance = NameTokens.editDistance(oldJoined, newJoined)
    let longest = max(oldJoined.count, newJoined.count)
    let spelling = longest == 0 ? 0 : 1 - Double(distance) / Double(longest)
    if spelling >= 0.8, distance <= 2 {
      return NameRelation(score: 0.75, reason: "'\(old)' and '\(new)' differ by \(distance) letter(s)")
    }
    // Sharing only a word that says what kind of value a column holds (`_at`, `_id`, `email`) while each name
    // has its own word for what it is (`created_at` / `cancelled_at`, `customer_id` / `order_id`,
    // `work_email` / `backup_email`): the names tell two columns apart, they are no evidence of a rename.
    if !shared.isEmpty, substituted.isEmpty, shared.isSubset(of: NameTokens.roleWords),
      !oldSet.subtracting(newSet).subtracting(NameTokens.roleWords).isEmpty,
      !newSet.subtracting(oldSet).subtracting(NameTokens.roleWords).isEmpty
    {
      return .none
    }
    if !shared.isEmpty {
      let gone = mapped.filter { !newSet.contains($0) }.joined(separator: "_")
      let came = newTokens.filter { !oldSet.contains($0) }.joined(separator: "_")
      var reason = "shares '\(shared.sorted().joined(separator: "', '"))' with '\(old)'"
      if !substituted.isEmpty {
        reason =
          "follows the table rename (\(substituted.joined(separator: ", "))); '\(gone)' became '\(came)'"
      }
      // A shared entity prefix (customer_segment → account_tier) is weaker than a shared meaning word.
      let score = substituted.isEmpty ? 0.35 + 0.3 * jaccard : 0.3 + 0.2 * jaccard
      return NameRelation(score: score, reason: reason, followsTableRename: !substituted.isEmpty)
    }
    return .none
  }
}
