import ArgumentParser
import DriftwatchCore
import DriftwatchDbt
import DriftwatchReports
import Foundation
import MCP

/// `driftwatch mcp`: the commands as tools of a Model Context Protocol server on standard input and output,
/// for coding agents. Each tool parses its arguments into the command's own options (the same defaults,
/// the same validation) and calls the command's `output()`: the JSON is the CLI's `--format json`.
struct MCPCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mcp",
    abstract: "Serve driftwatch's commands to coding agents: an MCP server over standard input and output.",
    discussion: """
      Tools: check, lineage, impact, fix_draft, answer, fix_apply, snapshot, incidents, postmortem. Results
      are the JSON reports the commands print with --format json (docs/report-schema.md, docs/fix.md);
      a failure is a result marked isError with the one-line message. Only fix_apply writes the project's
      files, and only when it is called; answer writes the decisions file it is given.

      Register it with an agent, e.g.:
        claude mcp add driftwatch -- driftwatch mcp

      Standard output carries the protocol only; warnings go to standard error. Ends when standard input
      closes.
      """)

  func run() async throws {
    Terminal.reserveStandardOutputForProtocol()
    let server = Server(
      name: "driftwatch", version: Driftwatch.version, title: "driftwatch",
      instructions: MCPTools.instructions, capabilities: .init(tools: .init(listChanged: false)))
    await server.withMethodHandler(ListTools.self) { _ in
      ListTools.Result(tools: MCPTools.all.map(\.tool))
    }
    await server.withMethodHandler(CallTool.self) { parameters in
      guard let token = parameters._meta?.progressToken else {
        return await MCPTools.call(parameters.name, arguments: parameters.arguments ?? [:])
      }
      // Progress (snapshot's tables and columns) as notifications of this call, in order, all sent before
      // its result.
      let (updates, continuation) = AsyncStream<ProgressNotification.Parameters>.makeStream()
      let sender = Task {
        for await update in updates { try? await server.notify(ProgressNotification.message(update)) }
      }
      let result = await SnapshotCommand.$progressSink.withValue({ done, total, what in
        continuation.yield(
          .init(progressToken: token, progress: Double(done), total: Double(total), message: what))
      }) {
        await MCPTools.call(parameters.name, arguments: parameters.arguments ?? [:])
      }
      continuation.finish()
      await sender.value
      return result
    }
    try await server.start(transport: StdioTransport())
    await server.waitUntilCompleted()
  }
}

/// A command whose answer `driftwatch mcp` can return instead of printing.
protocol AnsweringCommand: AsyncParsableCommand {
  func output() async throws -> CommandOutput
}

extension Check: AnsweringCommand {}
extension Lineage: AnsweringCommand {}
extension ImpactCommand: AnsweringCommand {}
extension Fix: AnsweringCommand {}
extension SnapshotCommand: AnsweringCommand {}
extension IncidentsCommand.List: AnsweringCommand {}
extension PostmortemCommand: AnsweringCommand {}

/// One argument of a tool: its JSON type, and the command-line option (or positional argument) it becomes.
struct MCPParameter: Sendable {
  enum Kind: Sendable {
    case string
    case bool
    case integer
    case number
    case strings
    /// An object of strings (a value mapping).
    case stringMap
  }

  var name: String
  var kind: Kind
  var description: String
  var required = false
  /// Passed after `--`, in order, instead of as `--option=value`.
  var positional = false

  var option: String { "--" + name.replacingOccurrences(of: "_", with: "-") }

  var schema: Value {
    var fields: [String: Value] = ["description": .string(description)]
    switch kind {
    case .string: fields["type"] = "string"
    case .bool: fields["type"] = "boolean"
    case .integer: fields["type"] = "integer"
    case .number: fields["type"] = "number"
    case .strings: fields["type"] = "array"; fields["items"] = ["type": "string"]
    case .stringMap: fields["type"] = "object"; fields["additionalProperties"] = ["type": "string"]
    }
    return .object(fields)
  }
}

/// A tool's failure: its message is the result's one line.
struct MCPToolError: UserFacingError {
  var message: String
  init(_ message: String) { self.message = message }
}

struct MCPTool: Sendable {
  var name: String
  var title: String
  var description: String
  var parameters: [MCPParameter]
  var annotations: Tool.Annotations
  var outputSchema: Value
  /// The tool itself and its arguments (checked against `parameters`) → the result's text and structured
  /// content.
  var run: @Sendable (MCPTool, [String: Value]) async throws -> (text: String, structured: Value)

  var tool: Tool {
    Tool(
      name: name, title: title, description: description,
      inputSchema: .object([
        "type": "object",
        "properties": .object(Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.schema) })),
        "required": .array(parameters.filter(\.required).map { .string($0.name) }),
        "additionalProperties": false,
      ]),
      annotations: annotations, outputSchema: outputSchema)
  }

  /// The command-line arguments for `arguments`: `--option=value` (a value may start with `-`), flags for
  /// true booleans, positional values after `--`.
  func commandLine(_ arguments: [String: Value]) throws -> [String] {
    let known = Set(parameters.map(\.name))
    if let unknown = arguments.keys.sorted().first(where: { !known.contains($0) }) {
      throw MCPToolError(
        "\(name) has no argument '\(unknown)': use \(parameters.map(\.name).joined(separator: ", "))")
    }
    var options: [String] = []
    var positional: [String] = []
    for parameter in parameters {
      guard let value = arguments[parameter.name], value != .null else {
        if parameter.required { throw MCPToolError("\(name) needs the argument '\(parameter.name)'") }
        continue
      }
      func wrong(_ expected: String) -> MCPToolError {
        MCPToolError("argument '\(parameter.name)' of \(name) must be \(expected)")
      }
      var values: [String] = []
      switch (parameter.kind, value) {
      case (.string, .string(let text)): values = [text]
      case (.bool, .bool(let flag)):
        if flag { options.append(parameter.option) }
        continue
      case (.integer, .int(let number)): values = [String(number)]
      case (.integer, .double(let number)) where number.rounded() == number && abs(number) < 1e15:
        values = [String(Int(number))]
      case (.number, .int(let number)): values = [String(number)]
      case (.number, .double(let number)): values = [String(number)]
      case (.strings, .array(let items)):
        values = try items.map { item in
          guard case .string(let text) = item else { throw wrong("an array of strings") }
          return text
        }
      case (.string, _): throw wrong("a string")
      case (.bool, _): throw wrong("true or false")
      case (.integer, _): throw wrong("an integer")
      case (.number, _): throw wrong("a number")
      case (.strings, _): throw wrong("an array of strings")
      case (.stringMap, _): throw wrong("an object of strings, read by the tool itself")
      }
      if parameter.positional {
        positional += values
      } else {
        options += values.map { "\(parameter.option)=\($0)" }
      }
    }
    return positional.isEmpty ? options : options + ["--"] + positional
  }
}

enum MCPTools {
  static let instructions = """
    driftwatch compares a dbt project's declared sources with the live warehouse. Start with `check` \
    (project directory + warehouse URL such as sqlite:PATH or postgres://USER@HOST/DB, or a dbt profile). \
    For breaking drift, `fix_draft` drafts the fix and lists the questions only a human can answer (value \
    meanings, split templates, weak renames): ask the user, record each answer with `answer` into a \
    decisions file, then `fix_apply` with that file writes every drafted file or none. `lineage` lists what \
    a dbt selector reaches; `impact` tries a migration on staging and rolls it back; `snapshot` records a \
    baseline that later checks use as evidence; `incidents` and `postmortem` read what `driftwatch watch` \
    recorded.
    """

  static let all: [MCPTool] = [
    check, lineage, impact, fixDraft, answer, fixApply, snapshot, incidents, postmortem,
  ]

  /// Runs tool `name`. Never throws: a failure is a result with `isError` and the one-line message.
  static func call(_ name: String, arguments: [String: Value]) async -> CallTool.Result {
    guard let tool = all.first(where: { $0.name == name }) else {
      return failure("no tool \(name): the tools are \(all.map(\.name).joined(separator: ", "))")
    }
    do {
      let (text, structured) = try await tool.run(tool, arguments)
      return CallTool.Result(
        content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: Optional(structured),
        isError: false)
    } catch {
      return failure(message(for: error))
    }
  }

  static func failure(_ message: String) -> CallTool.Result {
    CallTool.Result(
      content: [.text(text: Secrets.redact(message), annotations: nil, _meta: nil)], isError: true)
  }

  /// The message the command line would print for `error` (without `driftwatch: `).
  static func message(for error: any Error) -> String {
    if let error = error as? any UserFacingError { return error.message }
    var message = Driftwatch.message(for: error)
    if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
    if let first = message.first { message = first.lowercased() + message.dropFirst() }
    return message.isEmpty ? String(describing: error) : message
  }

  /// A tool over command `C`: its arguments become `C`'s command line (after `fixed`), `C` parses and
  /// validates them as the CLI does, and its `output()` is the result. JSON output is also the structured
  /// content; other text is wrapped by `structure`.
  static func command<C: AnsweringCommand>(
    _ type: C.Type, fixed: [String], structure: (@Sendable ([String: Value], String) -> Value)? = nil
  ) -> @Sendable (MCPTool, [String: Value]) async throws -> (text: String, structured: Value) {
    { tool, arguments in
      let commandLine = fixed + (try tool.commandLine(arguments))
      Secrets.register(arguments: commandLine, environment: [:])
      let command = try C.parse(commandLine)
      let text = Secrets.redact(try await command.output().text)
      if let structure { return (text, structure(arguments, text)) }
      do {
        return (text, try JSONDecoder().decode(Value.self, from: Data(text.utf8)))
      } catch {
        throw MCPToolError("\(tool.name) did not produce json (\(error)): please report this")
      }
    }
  }

  static func tool<C: AnsweringCommand>(
    _ name: String, title: String, description: String, parameters: [MCPParameter],
    annotations: Tool.Annotations, outputSchema: Value, command type: C.Type, fixed: [String],
    structure: (@Sendable ([String: Value], String) -> Value)? = nil
  ) -> MCPTool {
    MCPTool(
      name: name, title: title, description: description, parameters: parameters, annotations: annotations,
      outputSchema: outputSchema, run: command(type, fixed: fixed, structure: structure))
  }

  // MARK: - Parameters

  static let project: [MCPParameter] = [
    MCPParameter(
      name: "project", kind: .string,
      description: "The dbt project directory (default: the server's directory)."),
    MCPParameter(
      name: "manifest", kind: .string,
      description: "Read the graph from dbt's manifest.json instead of the project files (always exact)."),
    MCPParameter(
      name: "allow_incomplete", kind: .bool,
      description:
        "Answer even when the answer depends on nodes driftwatch could not read exactly (marked in the report)."
    ),
  ]

  static let warehouse: [MCPParameter] = [
    MCPParameter(
      name: "warehouse", kind: .string,
      description: "sqlite:PATH or postgres://USER@HOST:PORT/DB (else the dbt profile is used)."),
    MCPParameter(name: "profiles_dir", kind: .string, description: "Directory of dbt's profiles.yml."),
    MCPParameter(name: "target", kind: .string, description: "The profiles.yml target."),
    MCPParameter(
      name: "lock_timeout", kind: .string,
      description: "Give up on a read waiting this long for a lock (e.g. 10s)."),
    MCPParameter(
      name: "statement_timeout", kind: .string,
      description: "PostgreSQL: cancel a read running longer (e.g. 1min)."),
  ]

  static let catalog = MCPParameter(
    name: "catalog", kind: .string, description: "Offline: the live schema from dbt's catalog.json.")

  static let state = MCPParameter(
    name: "state", kind: .string,
    description: "The state store: sqlite:PATH or postgres://… (default: PROJECT/.driftwatch/state.db).")

  static let noSnapshot = MCPParameter(
    name: "no_snapshot", kind: .bool, description: "Do not use the latest snapshot as evidence.")

  static let fixOptions: [MCPParameter] = [
    MCPParameter(
      name: "decisions", kind: .string, description: "The decisions file with the answers (docs/fix.md)."),
    MCPParameter(
      name: "dialect", kind: .string,
      description:
        "SQL dialect of the drafted models (default: the warehouse's): postgres, sqlite, snowflake, …"),
    MCPParameter(
      name: "threshold", kind: .number,
      description: "Inferences below this confidence become questions (0…1)."),
  ]

  // MARK: - Output schemas

  static func objectSchema(_ properties: [String: String], required: [String]) -> Value {
    .object([
      "type": "object",
      "properties": .object(properties.mapValues { type in .object(["type": .string(type)]) }),
      "required": .array(required.map { .string($0) }),
    ])
  }

  static let driftReportSchema = objectSchema(
    [
      "schema_version": "integer", "project": "string", "warehouse": "string", "breaking": "boolean",
      "exact": "boolean", "summary": "object", "changes": "array", "blast_radius": "object",
    ], required: ["schema_version", "project", "breaking", "exact", "summary", "changes", "blast_radius"])

  static let fixSchema = objectSchema(
    [
      "schema_version": "integer", "project": "string", "dialect": "string", "changes": "array",
      "files": "array", "questions": "array", "expected_failures": "array", "notes": "array",
    ], required: ["schema_version", "project", "files", "questions"])

  // MARK: - Tools

  static let check = tool(
    "check", title: "Check for schema drift",
    description:
      "Compare the dbt project's sources with the live warehouse: every change with evidence and confidence, "
      + "whether it breaks something, and the blast radius (models, tests, exposures). The JSON report of "
      + "`driftwatch check --format json` (docs/report-schema.md); `breaking` true is exit code 1 on the CLI.",
    parameters: project + warehouse + [catalog, state, noSnapshot],
    annotations: .init(title: "Check for schema drift", readOnlyHint: true, openWorldHint: true),
    outputSchema: driftReportSchema, command: Check.self, fixed: ["--format=json"])

  static let lineage = tool(
    "lineage", title: "What a dbt selector reaches",
    description:
      "List the nodes a dbt selector selects, as dbt ls would (no dbt needed): source:acme.raw_customers+, "
      + "+fct_orders, tag:finance, … The JSON of `driftwatch lineage --format json`.",
    parameters: project + [
      MCPParameter(
        name: "selectors", kind: .strings,
        description:
          "Selectors (a union, like dbt's --select); none lists every node, as dbt ls does with no --select.",
        required: false, positional: true),
      MCPParameter(name: "exclude", kind: .string, description: "Leave out what this selector selects."),
    ],
    annotations: .init(title: "What a dbt selector reaches", readOnlyHint: true, openWorldHint: false),
    outputSchema: objectSchema(
      ["schema_version": "integer", "nodes": "array", "exact": "boolean"],
      required: ["schema_version", "nodes"]),
    command: Lineage.self, fixed: ["--format=json"])

  static let impact = tool(
    "impact", title: "What a migration would break",
    description:
      "Run a backend migration (.sql) on a staging database inside a transaction that is always rolled back "
      + "(SQLite: on a temporary copy) and report what it breaks in the dbt project. Statements that would act "
      + "outside the transaction are refused before anything runs. The JSON of `driftwatch impact --format json` "
      + "(docs/impact.md).",
    parameters: [
      MCPParameter(
        name: "migration", kind: .string, description: "The migration's .sql file.", required: true,
        positional: true),
      MCPParameter(
        name: "warehouse", kind: .string,
        description: "The staging database: postgres://USER@HOST:PORT/DB or sqlite:PATH.", required: true),
      MCPParameter(
        name: "search_path", kind: .string,
        description: "PostgreSQL: the schema unqualified names resolve to."),
      MCPParameter(
        name: "statement_timeout", kind: .string, description: "PostgreSQL: statement timeout (default 30s)."),
      MCPParameter(
        name: "lock_timeout", kind: .string, description: "PostgreSQL: lock timeout (default 5s)."),
      MCPParameter(
        name: "dbt_build", kind: .bool,
        description:
          "PostgreSQL: also apply it to a throwaway copy, write the drafted fix into a temporary copy of the "
          + "project and run the real dbt build there (both are deleted)."),
      MCPParameter(name: "decisions", kind: .string, description: "With dbt_build: the decisions file."),
      MCPParameter(name: "dbt", kind: .string, description: "With dbt_build: the dbt executable."),
      MCPParameter(
        name: "profiles_dir", kind: .string, description: "With dbt_build: dbt's profiles.yml directory."),
      MCPParameter(name: "target", kind: .string, description: "With dbt_build: the profiles.yml target."),
    ] + project + [state, noSnapshot],
    annotations: .init(title: "What a migration would break", readOnlyHint: true, openWorldHint: true),
    outputSchema: objectSchema(
      ["schema_version": "integer", "kind": "string", "breaking": "boolean", "migration": "object"],
      required: ["schema_version", "breaking"]),
    command: ImpactCommand.self, fixed: ["--format=json"])

  static let fixDraft = tool(
    "fix_draft", title: "Draft the fix",
    description:
      "Draft the backward-compatible fix for the drift a check finds: the files as they would be written, "
      + "each with its diff, and the questions only a human can answer (status open until answered in the "
      + "decisions file). Writes nothing. The JSON of `driftwatch fix --format json` (docs/fix.md).",
    parameters: project + warehouse + [state, noSnapshot] + fixOptions,
    annotations: .init(title: "Draft the fix", readOnlyHint: true, openWorldHint: true),
    outputSchema: fixSchema, command: Fix.self, fixed: ["--format=json"])

  static let fixApply = tool(
    "fix_apply", title: "Write the fix",
    description:
      "Write the drafted fix into the project: every file or none, refused while a question is open (answer "
      + "them with `answer` into the decisions file and pass it) or when a file changed since it was read. "
      + "Call it only when the user approved the fix. The JSON of `driftwatch fix --write --format json`.",
    parameters: project + warehouse + [state, noSnapshot] + fixOptions,
    annotations: .init(
      title: "Write the fix", readOnlyHint: false, destructiveHint: true, idempotentHint: false,
      openWorldHint: true),
    outputSchema: fixSchema, command: Fix.self, fixed: ["--format=json", "--write"])

  static let snapshot = tool(
    "snapshot", title: "Record a baseline",
    description:
      "Record the sources' schema, column profiles and keyed samples in the state store, as the baseline "
      + "later checks use to prove renames, splits and value remaps from the data. Returns the snapshot as "
      + "`driftwatch history --format json` lists it.",
    parameters: project + warehouse + [
      state,
      MCPParameter(
        name: "sample_size", kind: .integer, description: "Keys sampled per table (default 1000)."),
      MCPParameter(name: "no_sample_values", kind: .bool, description: "Keep hashes of sampled values only."),
    ],
    annotations: .init(
      title: "Record a baseline", readOnlyHint: false, destructiveHint: false, idempotentHint: false,
      openWorldHint: true),
    outputSchema: objectSchema(
      ["state": "string", "snapshot": "object", "seconds": "number"], required: ["state", "snapshot"]),
    command: SnapshotCommand.self, fixed: ["--format=json"])

  static let incidents = tool(
    "incidents", title: "Incidents",
    description:
      "The incidents `driftwatch watch` opened, with their timelines and latencies. The JSON of "
      + "`driftwatch incidents --format json`.",
    parameters: [
      MCPParameter(
        name: "project", kind: .string, description: "The dbt project directory (for its state store)."),
      state,
    ],
    annotations: .init(title: "Incidents", readOnlyHint: true, openWorldHint: false),
    outputSchema: objectSchema(["incidents": "array"], required: ["incidents"]),
    command: IncidentsCommand.List.self, fixed: ["--format=json"])

  static let postmortem = tool(
    "postmortem", title: "Postmortem",
    description:
      "The postmortem of an incident (markdown, following the WT-04 template), as `driftwatch postmortem` "
      + "writes it.",
    parameters: [
      MCPParameter(
        name: "incident", kind: .string, description: "The incident id (from incidents).", required: true,
        positional: true),
      MCPParameter(
        name: "project", kind: .string, description: "The dbt project directory (for its state store)."),
      state,
    ],
    annotations: .init(title: "Postmortem", readOnlyHint: true, openWorldHint: false),
    outputSchema: objectSchema(
      ["incident": "string", "markdown": "string"], required: ["incident", "markdown"]),
    command: PostmortemCommand.self, fixed: [],
    structure: { arguments, markdown in
      .object(["incident": arguments["incident"] ?? .null, "markdown": .string(markdown)])
    })

  static let answer = MCPTool(
    name: "answer", title: "Record an answer",
    description:
      "Record the answer to one of fix_draft's questions in a decisions file (docs/fix.md), creating the file "
      + "if needed; other answers in it are kept. Give exactly what the question asks: `mapping` (old value → "
      + "new value) for value_mapping, `template` for split_template, `accept` for confirm_rename and "
      + "fill_missing (accept false rejects any proposal), `keep_old_source` for a table rename. Then pass the "
      + "file as `decisions` to fix_draft or fix_apply.",
    parameters: [
      MCPParameter(
        name: "decisions", kind: .string, description: "The decisions file to write (e.g. decisions.yml).",
        required: true),
      MCPParameter(
        name: "change_id", kind: .string, description: "The question's change id (c + 10 hex digits).",
        required: true),
      MCPParameter(name: "accept", kind: .bool, description: "Take (true) or reject (false) the proposal."),
      MCPParameter(
        name: "mapping", kind: .stringMap, description: "Each old value → the new value replacing it."),
      MCPParameter(
        name: "template", kind: .string, description: "How a split column is rebuilt: \"{street}, {city}\"."),
      MCPParameter(
        name: "keep_old_source", kind: .bool, description: "Table renames: keep the old sources entry too."),
    ],
    annotations: .init(
      title: "Record an answer", readOnlyHint: false, destructiveHint: false, idempotentHint: true,
      openWorldHint: false),
    outputSchema: objectSchema(
      ["decisions": "string", "change_id": "string", "decision": "object", "answers": "integer"],
      required: ["decisions", "change_id", "decision", "answers"]),
    run: { tool, arguments in try AnswerTool.record(tool, arguments) })
}

/// The `answer` tool: one answer merged into a decisions file, written whole (temporary file + rename).
enum AnswerTool {
  static func record(_ tool: MCPTool, _ arguments: [String: Value]) throws -> (
    text: String, structured: Value
  ) {
    // Names, types and required arguments as every tool checks them (the map is checked below).
    var plain = arguments
    plain["mapping"] = nil
    _ = try tool.commandLine(plain)
    guard case .string(let path) = arguments["decisions"] ?? .null, !path.isEmpty else {
      throw MCPToolError("answer needs the argument 'decisions' (a file path)")
    }
    guard case .string(let id) = arguments["change_id"] ?? .null,
      id.first == "c", id.count == 11, id.dropFirst().allSatisfy(\.isHexDigit)
    else {
      throw MCPToolError("'change_id' must be a change id like c3f1a2b4c5d (fix_draft's questions show them)")
    }
    var decision = Decision()
    if case .bool(let accept) = arguments["accept"] ?? .null { decision.accept = accept }
    if case .bool(let keep) = arguments["keep_old_source"] ?? .null { decision.keepOldSource = keep }
    if case .string(let template) = arguments["template"] ?? .null {
      guard !template.isEmpty else {
        throw MCPToolError("'template' is empty: name the columns, e.g. \"{a} {b}\"")
      }
      decision.template = template
    }
    switch arguments["mapping"] ?? .null {
    case .null: break
    case .object(let pairs):
      var mapping: [String: String] = [:]
      for (old, new) in pairs {
        guard case .string(let value) = new else {
          throw MCPToolError("mapping.\(old) must be the new value, a string")
        }
        mapping[old] = value
      }
      decision.mapping = mapping
    default: throw MCPToolError("argument 'mapping' of answer must be an object of strings")
    }
    guard decision != Decision() else {
      throw MCPToolError("answer needs accept, mapping, template or keep_old_source for \(id)")
    }
    var decisions = Decisions()
    if FileManager.default.fileExists(atPath: path) {
      decisions = try DecisionsReader.read(path: path)
    }
    decisions.byChange[id] = decision
    let text = DecisionsRenderer.render(decisions)
    // What is written must read back as written.
    guard (try? DecisionsReader.parse(text, path: path)) == decisions else {
      throw MCPToolError("the answer for \(id) cannot be written as a decisions file: please report this")
    }
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw MCPToolError("cannot write \(path): \(error.localizedDescription.lowercased())")
    }
    var fields: [String: Value] = [:]
    if let accept = decision.accept { fields["accept"] = .bool(accept) }
    if let mapping = decision.mapping { fields["mapping"] = .object(mapping.mapValues { .string($0) }) }
    if let template = decision.template { fields["template"] = .string(template) }
    if let keep = decision.keepOldSource { fields["keep_old_source"] = .bool(keep) }
    let structured: Value = .object([
      "decisions": .string(path), "change_id": .string(id), "decision": .object(fields),
      "answers": .int(decisions.byChange.count),
    ])
    let json = (try? String(decoding: JSONEncoder().encode(structured), as: UTF8.self)) ?? "{}"
    return (json, structured)
  }
}
