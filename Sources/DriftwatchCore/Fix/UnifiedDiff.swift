/// `diff -u` output for drafted files, so a fix can be read (and applied with `git apply`) before it is written.
public enum UnifiedDiff {
  enum Op: Equatable {
    case same(String)
    case removed(String)
    case added(String)
  }

  /// The unified diff from `old` to `new` (nil: the file does not exist), with `context` lines around changes.
  public static func make(path: String, old: String?, new: String?, context: Int = 3) -> String {
    let a = old.map(lines) ?? []
    let b = new.map(lines) ?? []
    let ops = diff(a, b)
    guard ops.contains(where: { if case .same = $0 { false } else { true } }) else { return "" }
    var out = [
      old == nil ? "--- /dev/null" : "--- a/\(path)",
      new == nil ? "+++ /dev/null" : "+++ b/\(path)",
    ]
    // Group changes into hunks with context.
    var index = 0
    var oldLine = 1
    var newLine = 1
    var hunks: [(oldStart: Int, newStart: Int, ops: [Op])] = []
    var current: (oldStart: Int, newStart: Int, ops: [Op])?
    var trailingSame = 0
    while index < ops.count {
      let op = ops[index]
      if case .same = op {
        if var hunk = current {
          // Keep up to 2*context same lines in a hunk; past that, close it.
          let nextChange = ops[(index + 1)...].firstIndex { if case .same = $0 { false } else { true } }
          let run = (nextChange ?? ops.count) - index
          if run > 2 * context || nextChange == nil {
            hunk.ops += ops[index..<min(ops.count, index + context)]
            hunks.append(hunk)
            current = nil
            let skip = run
            oldLine += skip
            newLine += skip
            index += skip
            trailingSame = skip
            continue
          }
          hunk.ops.append(op)
          current = hunk
        }
        oldLine += 1
        newLine += 1
        trailingSame += 1
        index += 1
        continue
      }
      if current == nil {
        let lead = min(context, trailingSame, index)
        let leading = ops[(index - lead)..<index]
        current = (oldLine - lead, newLine - lead, Array(leading))
      }
      current?.ops.append(op)
      if case .removed = op { oldLine += 1 } else { newLine += 1 }
      trailingSame = 0
      index += 1
    }
    if let hunk = current { hunks.append(hunk) }
    for hunk in hunks {
      let oldCount = hunk.ops.filter { if case .added = $0 { false } else { true } }.count
      let newCount = hunk.ops.filter { if case .removed = $0 { false } else { true } }.count
      let oldStart = oldCount == 0 ? hunk.oldStart - 1 : hunk.oldStart
      let newStart = newCount == 0 ? hunk.newStart - 1 : hunk.newStart
      out.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
      for op in hunk.ops {
        switch op {
        case .same(let line): out.append(" " + line)
        case .removed(let line): out.append("-" + line)
        case .added(let line): out.append("+" + line)
        }
      }
    }
    return out.joined(separator: "\n") + "\n"
  }

  static func lines(_ text: String) -> [String] {
    var result = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if result.last == "" { result.removeLast() }
    return result
  }

  /// Line diff: common prefix and suffix, then a longest-common-subsequence table for the middle
  /// (drafted edits are small; past 4M cells the middle is replaced wholesale).
  static func diff(_ a: [String], _ b: [String]) -> [Op] {
    var prefix = 0
    while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix,
      a[a.count - 1 - suffix] == b[b.count - 1 - suffix]
    {
      suffix += 1
    }
    let midA = Array(a[prefix..<(a.count - suffix)])
    let midB = Array(b[prefix..<(b.count - suffix)])
    var ops = a[..<prefix].map(Op.same)
    if midA.count * midB.count > 4_000_000 || midA.isEmpty || midB.isEmpty {
      ops += midA.map(Op.removed) + midB.map(Op.added)
    } else {
      let n = midA.count
      let m = midB.count
      var table = [Int](repeating: 0, count: (n + 1) * (m + 1))
      for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
          table[i * (m + 1) + j] =
            midA[i] == midB[j]
            ? table[(i + 1) * (m + 1) + j + 1] + 1
            : max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1])
        }
      }
      var i = 0
      var j = 0
      while i < n || j < m {
        if i < n, j < m, midA[i] == midB[j] {
          ops.append(.same(midA[i]))
          i += 1
          j += 1
        } else if i < n, j == m || table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1] {
          ops.append(.removed(midA[i]))
          i += 1
        } else {
          ops.append(.added(midB[j]))
          j += 1
        }
      }
    }
    ops += a[(a.count - suffix)...].map(Op.same)
    return ops
  }
}
